"""Every part of one instance built from Settings, each given its collaborators through
its constructor (instance.py starts and closes what this builds).

The only place that builds a collaborator shared by several parts: one metrics registry,
one event recorder (the seq, the event log and the outbox of every durable room change,
new messages included), one password hasher, one set of channels for the hub and presence.
"""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher

from roomchat.avatars import Avatars
from roomchat.bus.base import Bus
from roomchat.domain.api_keys import ApiKeyService
from roomchat.domain.attachments import AttachmentLimits, AttachmentService, FileStore
from roomchat.domain.direct_chats import DirectChats
from roomchat.domain.invitations import MAX_PENDING_PER_WORKSPACE, InvitationService
from roomchat.domain.mentions import Mentions
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.read_state import ReadState
from roomchat.domain.records import InvitationLimits, RoomLimits
from roomchat.domain.replay import Replay
from roomchat.domain.rooms import RoomService
from roomchat.domain.sessions import SessionService
from roomchat.domain.threads import ThreadService
from roomchat.domain.throttle import LoginThrottle
from roomchat.domain.users import UserService
from roomchat.domain.webhooks import RetryPolicy, WebhookService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.files.local import LocalFileStore, UrlSigner
from roomchat.metrics import Metrics, MetricsAccess
from roomchat.outbox import Outbox, OutboxLimits
from roomchat.realtime.activity import Activity
from roomchat.realtime.channels import Channels
from roomchat.realtime.fanout import Fanout
from roomchat.realtime.gateway import Gateway, GatewayLimits
from roomchat.realtime.handlers import Handlers
from roomchat.realtime.hub import Hub
from roomchat.realtime.origins import OriginPolicy
from roomchat.realtime.presence import Presence, PresenceLimits
from roomchat.realtime.receipts import Receipts
from roomchat.realtime.sessions import SocketSessions
from roomchat.services import Services
from roomchat.settings import Settings
from roomchat.store import Store
from roomchat.store.attachments import AttachmentRepo
from roomchat.store.database import Timeouts
from roomchat.store.recorder import Recorder
from roomchat.webhooks.addresses import AddressPolicy
from roomchat.webhooks.dispatcher import Dispatcher, DispatchLimits
from roomchat.webhooks.sender import Sender


def build_services(settings: Settings, bus: Bus) -> Services:
    store = Store.connect(
        settings.resolved_database_url(),
        settings.database_pool_size,
        Timeouts(
            statement_s=settings.database_statement_timeout_s,
            pool_s=settings.database_pool_timeout_s,
            readiness_s=settings.readiness_timeout_s,
        ),
    )
    meter = Metrics(settings.instance_id)
    public_base_url = settings.resolved_public_base_url()
    hasher = PasswordHasher()  # passwords and room passcodes alike
    users = UserService(
        store,
        LoginThrottle(
            settings.login_limit_per_account,
            settings.login_limit_per_address,
            settings.register_limit_per_address,
        ),
        hasher,
        settings.max_password_chars,
        profile_changes=RateLimiter(
            settings.profile_change_limit, "changing your profile too fast; slow down"
        ),
        origin=settings.instance_id,
    )
    sessions = SessionService(
        store,
        settings.resolved_jwt_secret(),
        settings.jwt_ttl_seconds,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ticket_ttl_seconds=settings.ws_ticket_ttl_s,
        session_max_age_seconds=settings.session_max_age_s,
    )
    sockets = SocketSessions(sessions, settings.revocation_poll_interval_s, store.is_unavailable)
    sessions.on_revoked(sockets.poll_soon)
    # Durable events reach other instances through the outbox; with no one else to
    # reach (the memory bus), there is nothing to keep.
    outbox = None
    if bus.shared:
        outbox = Outbox(
            store.engine,
            bus,
            settings.instance_id,
            OutboxLimits(
                batch=settings.outbox_batch,
                orphan_after_s=settings.outbox_orphan_after_s,
                retry_s=settings.kafka_retry_interval_s,
            ),
        )
    # Every durable room change, new messages included: its seq, the event log, the outbox.
    recorder = Recorder(store, outbox, settings.instance_id)
    workspaces = WorkspaceService(
        store,
        InvitationService(
            store,
            InvitationLimits(
                MAX_PENDING_PER_WORKSPACE,
                settings.invitations_per_user,
                settings.invitations_from_one_inviter,
            ),
            limiter=RateLimiter(settings.invitation_rate_limit, "inviting too fast; slow down"),
        ),
        recorder,
        owned_limit=settings.workspaces_per_owner,
    )
    keys = ApiKeyService(
        store,
        workspaces,
        settings.api_keys_per_workspace,
        RateLimiter(settings.api_key_rate_limit, "too many requests with this API key"),
        creations=RateLimiter(settings.api_key_create_limit, "making API keys too fast"),
    )
    addresses = AddressPolicy.parse(settings.webhook_allowed_networks)
    webhooks = WebhookService(store, workspaces, addresses.check, settings.webhooks_per_workspace)
    rooms = RoomService(
        store,
        workspaces,
        settings.passcode_max_failures,
        timedelta(seconds=settings.passcode_window_seconds),
        hasher=hasher,
        recorder=recorder,
        public_base_url=public_base_url,
        limits=RoomLimits(settings.rooms_per_workspace, settings.rooms_per_creator),
    )
    mentions = Mentions(store, settings.instance_id)
    attachments = _attachments(settings, store, rooms)
    recorder.mint_urls_with(attachments.mint_message, attachments.fresh)
    messages = MessageService(
        store,
        rooms,
        recorder,
        MessageLimits(
            max_text_chars=settings.max_message_text_chars,
            max_content_bytes=settings.max_message_content_bytes,
            history=settings.history_limit,
            catch_up_max_bytes=settings.catch_up_max_bytes,
        ),
        metrics=meter,
        mentions=mentions,
        cache_recent=True,
        commits_in_flight=settings.commits_in_flight,
        attachments=attachments,
    )
    replay = Replay(
        store,
        rooms,
        settings.instance_id,
        max_bytes=settings.catch_up_max_bytes,
        catch_up=settings.catch_up_limit,
        fresh=attachments.fresh,
    )
    # The joined rooms' channels: the hub fills them, presence reads and speaks through them.
    channels = Channels()
    presence = Presence(
        settings.instance_id,
        store.rooms.member_count,
        PresenceLimits(
            enabled=settings.presence_enabled,
            grace_s=settings.presence_grace_s,
            ttl_s=settings.presence_ttl_s,
            refresh_s=settings.presence_refresh_s,
            max_members=settings.presence_max_members,
        ),
        tell_others=bus.signal,
        joined_here=channels.joined_here,
        pass_on=channels.pass_on,
    )
    hub = Hub(
        replay,
        settings.gap_fill_delay_ms / 1000,
        settings.sweep_interval_s,
        metrics=meter,
        channels=channels,
        attendance=presence if settings.presence_enabled else None,
        is_unavailable=store.is_unavailable,
    )
    fanout = Fanout(hub, bus, settings.instance_id)
    # Every instance's membership cache follows the room events it hears (a member
    # who left or was removed is forgotten at once); the hub sends away their sockets.
    fanout.on_event(rooms.apply)
    # Joins are served from each room's newest messages in memory, kept exact by its events.
    fanout.on_event(messages.heard)
    activity = Activity(
        hub, store.reads, attachments.mint_message, settings.activity_interval_ms / 1000
    )
    fanout.on_event(activity.heard)
    if settings.presence_enabled:
        fanout.on_internal(presence.heard)
        fanout.on_event(presence.heard_event)
    dispatcher = _webhook_dispatcher(settings, store, addresses, meter)
    fanout.on_event(dispatcher.heard)  # an event heard: endpoints may have one to send
    fanout.on_event(attachments.heard)  # a message or room deleted here: its files go
    changes = MessageChanges(rooms, recorder, messages.limits, mentions=mentions)
    reads = ReadState(store, rooms, workspaces, attachments.mint_message)
    receipts = Receipts(
        fanout,
        settings.instance_id,
        reads.shares_receipts,
        settings.read_receipt_interval_ms / 1000,
    )
    threads = ThreadService(store, rooms, workspaces, attachments.mint_message)
    handlers = Handlers(
        rooms,
        messages,
        hub,
        fanout,
        settings.instance_id,
        public_base_url,
        changes,
        replay,
        reads,
        receipts,
        workspaces,
        presence,
        threads,
    )
    gateway = Gateway(
        sockets,
        hub,
        handlers.table(),
        _gateway_limits(settings),
        OriginPolicy.parse(settings.ws_allowed_origins, public_base_url),
        meter,
        store.is_unavailable,
    )
    _measure_levels(meter, gateway, hub, bus, outbox)
    return Services(
        store,
        bus,
        outbox,
        users,
        workspaces,
        rooms,
        DirectChats(store, workspaces, settings.direct_chats_per_creator),
        messages,
        hub,
        fanout,
        gateway,
        public_base_url,
        sessions=sessions,
        sockets=sockets,
        replay=replay,
        recorder=recorder,
        reads=reads,
        presence=presence,
        metrics=meter,
        metrics_access=MetricsAccess(settings.metrics_token, settings.metrics_address is not None),
        api_keys=keys,
        webhooks=webhooks,
        webhook_dispatcher=dispatcher,
        activity=activity,
        threads=threads,
        rest_sends=RateLimiter(settings.rest_send_limit, "sending too fast; slow down"),
        avatars=Avatars(settings.data_dir / "avatars"),
        attachments=attachments,
    )


def _attachments(settings: Settings, store: Store, rooms: RoomService) -> AttachmentService:
    """Files in messages (issue 24): the file store the settings name, and its rules."""
    files: FileStore
    temp = settings.resolved_files_dir() / "tmp"
    if settings.files_backend == "s3":
        if not settings.s3_bucket:
            raise ValueError("ROOMCHAT_FILES_BACKEND=s3 needs ROOMCHAT_S3_BUCKET")
        from roomchat.files.s3 import S3FileStore  # only instances that use S3 load it

        files = S3FileStore(
            settings.s3_bucket,
            temp,
            endpoint=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            prefix=settings.s3_prefix,
        )
    elif settings.files_backend == "local":
        secret = settings.files_signing_secret or settings.resolved_jwt_secret()
        files = LocalFileStore(
            settings.resolved_files_dir(),
            (settings.files_base_url or settings.resolved_public_base_url()),
            UrlSigner(secret),
        )
    else:
        raise ValueError(f"ROOMCHAT_FILES_BACKEND: local or s3, not {settings.files_backend!r}")
    return AttachmentService(
        AttachmentRepo(store.engine),
        files,
        rooms,
        AttachmentLimits(
            max_upload_bytes=settings.max_upload_bytes,
            workspace_quota_bytes=settings.workspace_storage_quota_bytes,
            max_image_pixels=settings.max_image_pixels,
            url_ttl_s=settings.file_url_ttl_s,
            unattached_ttl_s=settings.attachment_unattached_ttl_s,
            orphan_grace_s=settings.attachment_orphan_grace_s,
            sweep_interval_s=settings.attachment_sweep_interval_s,
        ),
        RateLimiter(settings.upload_rate_limit, "uploading too fast; slow down"),
        settings.instance_id,
    )


def _gateway_limits(settings: Settings) -> GatewayLimits:
    return GatewayLimits(
        outbound_queue_frames=settings.outbound_queue_frames,
        send_rate_per_second=settings.send_rate_per_second,
        send_burst=settings.send_burst,
        outbound_buffer_bytes=settings.outbound_buffer_bytes,
        write_timeout_s=settings.write_timeout_s,
        join_rate_per_second=settings.join_rate_per_second,
        join_burst=settings.join_burst,
        max_ws_per_user=settings.max_ws_per_user,
        edit_rate_per_second=settings.edit_rate_per_second,
        edit_burst=settings.edit_burst,
        read_rate_per_second=settings.read_rate_per_second,
        read_burst=settings.read_burst,
    )


def _webhook_dispatcher(
    settings: Settings, store: Store, addresses: AddressPolicy, meter: Metrics
) -> Dispatcher:
    dispatcher = Dispatcher(
        store.webhooks,
        Sender(
            addresses,
            settings.webhook_timeout_s,
            settings.webhook_connect_timeout_s,
            settings.webhook_concurrency,
        ),
        settings.instance_id,
        RetryPolicy(
            backoff_initial_s=settings.webhook_backoff_initial_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            retry_window_s=settings.webhook_retry_window_s,
        ),
        DispatchLimits(
            concurrency=settings.webhook_concurrency,
            workspace_concurrency=settings.webhook_workspace_concurrency,
            lease_s=settings.webhook_lease_s,
            poll_s=settings.webhook_poll_interval_s,
        ),
        meter,
    )
    # Endpoints made, changed or deleted here are seen at once, not at the next renewal.
    store.webhooks.on_change(dispatcher.changed)
    return dispatcher


def _measure_levels(
    meter: Metrics, gateway: Gateway, hub: Hub, bus: Bus, outbox: Outbox | None
) -> None:
    """The gauges of /metrics, read from their owners when scraped."""
    meter.level("roomchat_connections", "Open WebSocket connections", lambda: gateway.connections)
    meter.level(
        "roomchat_joined_rooms", "Rooms with a joined connection here", lambda: hub.room_count
    )
    meter.level(
        "roomchat_bus_healthy",
        "1 while the bus is up and hears itself (/readyz's bus check), else 0",
        lambda: 1.0 if bus.health().get("ok") else 0.0,
    )
    meter.level(
        "roomchat_kafka_consumer_lag",
        "Records behind the end of the topic, summed over partitions",
        lambda: bus.health().get("lag"),
    )
    if outbox is not None:
        meter.level(
            "roomchat_outbox_backlog",
            "Committed events not yet published on the bus",
            lambda: outbox.health()["outbox_unpublished"],
        )
