"""create_app(settings): the ASGI app; its lifespan builds store, bus, services and hub."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from roomchat import __version__
from roomchat.api.middleware import BodyLimit, RequestId, SecurityHeaders
from roomchat.api.responses import (
    DATABASE_ERRORS,
    ERROR_RESPONSES,
    on_chat_error,
    on_database_error,
    on_http_error,
    on_validation_error,
)
from roomchat.api.routes import (
    api_keys,
    auth,
    health,
    invitations,
    metrics,
    room_users,
    rooms,
    webhooks,
    workspaces,
)
from roomchat.bus.base import Bus
from roomchat.bus.memory import MemoryBus
from roomchat.domain.api_keys import ApiKeyService
from roomchat.domain.invitations import MAX_PENDING_PER_WORKSPACE, InvitationService
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.read_state import ReadState
from roomchat.domain.recorder import EventRecorder
from roomchat.domain.replay import Replay
from roomchat.domain.rooms import RoomService
from roomchat.domain.sessions import SessionService
from roomchat.domain.throttle import LoginThrottle
from roomchat.domain.users import UserService
from roomchat.domain.webhooks import RetryPolicy, WebhookService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError
from roomchat.metrics import Metrics, MetricsAccess, serve_separately
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
from roomchat.shutdown import run_step
from roomchat.store import Store
from roomchat.store.database import Timeouts
from roomchat.store.invitations import InvitationLimits
from roomchat.store.rooms import RoomLimits
from roomchat.webhooks.addresses import AddressPolicy
from roomchat.webhooks.dispatcher import Dispatcher, DispatchLimits
from roomchat.webhooks.sender import Sender

log = logging.getLogger("roomchat")
WEB_DIR = Path(__file__).parent / "web"
WS_PATH = "/ws"
# Each shutdown step's bound: well past a healthy step's time (the outbox relay's grace
# is 5 s, the broker clients' stops 5 s each), and the next step runs after it anyway.
SHUTDOWN_STEP_TIMEOUT_S = 15.0


class RoomchatAPI(FastAPI):
    """FastAPI for REST; the WebSocket endpoint /ws goes straight to the gateway.

    A connection lives for hours, and every frame of the HTTP middleware and routing
    stack it passed through stays on its task's stack as long: routed past them,
    each idle connection holds several KiB less.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == WS_PATH:
            await self.state.services.gateway(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def build_bus(settings: Settings) -> Bus:
    if settings.kafka_bootstrap_servers:
        # Only instances that use Kafka import it.
        from roomchat.bus.kafka import KafkaBus, KafkaConfig

        return KafkaBus(
            KafkaConfig(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic=settings.kafka_topic,
                origin=settings.instance_id,
                partitions=settings.kafka_partitions,
                replication_factor=settings.kafka_replication_factor,
                linger_ms=settings.kafka_linger_ms,
                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                produce_timeout_s=settings.kafka_produce_timeout_s,
                connect_timeout_s=settings.kafka_connect_timeout_s,
                retry_interval_s=settings.kafka_retry_interval_s,
                heartbeat_interval_s=settings.kafka_heartbeat_interval_s,
                deaf_after_s=settings.kafka_deaf_after_s,
                signal_ttl_s=settings.kafka_typing_ttl_s,
            )
        )
    return MemoryBus()


def create_app(settings: Settings | None = None, bus: Bus | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await start_services(settings, bus or build_bus(settings))
        app.state.services = services
        log.info(
            "roomchat %s instance %s ready (bus: %s)",
            __version__,
            settings.instance_id,
            services.bus.health().get("kind"),
        )
        try:
            yield
        finally:
            await stop_services(services)

    app = RoomchatAPI(
        title="roomchat",
        version=__version__,
        description="Workspace-based room chat. WebSocket protocol: see docs/protocol.md.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    # The last added is the outermost: security headers go on the body limit's 413 too.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestId)  # outermost: its id is on every line the request logs
    app.add_exception_handler(ChatError, on_chat_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, on_database_error)
    routes = (
        health,
        auth,
        workspaces,
        api_keys,
        webhooks,
        rooms,
        room_users,
        invitations,
        metrics,
    )
    for module in routes:
        app.include_router(module.router)

    if settings.serve_web_client and (WEB_DIR / "index.html").exists():

        @app.get("/join/{join_token}", include_in_schema=False)
        async def join_page(join_token: str) -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


async def start_services(settings: Settings, bus: Bus) -> Services:
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
    users = UserService(
        store,
        LoginThrottle(
            settings.login_limit_per_account,
            settings.login_limit_per_address,
            settings.register_limit_per_address,
        ),
        settings.max_password_chars,
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
    sockets = SocketSessions(sessions, settings.revocation_poll_interval_s)
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
    # Edits, reactions, membership and room changes: each its own seq and event.
    recorder = EventRecorder(store, outbox, settings.instance_id)
    workspaces_ = WorkspaceService(
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
        recorder=recorder,
        owned_limit=settings.workspaces_per_owner,
    )
    keys = ApiKeyService(
        store,
        workspaces_,
        settings.api_keys_per_workspace,
        RateLimiter(settings.api_key_rate_limit, "too many requests with this API key"),
        creations=RateLimiter(settings.api_key_create_limit, "making API keys too fast"),
    )
    addresses = AddressPolicy.parse(settings.webhook_allowed_networks)
    webhooks_ = WebhookService(store, workspaces_, addresses.check, settings.webhooks_per_workspace)
    rooms_ = RoomService(
        store,
        workspaces_,
        settings.passcode_max_failures,
        timedelta(seconds=settings.passcode_window_seconds),
        recorder=recorder,
        public_base_url=public_base_url,
        limits=RoomLimits(settings.rooms_per_workspace, settings.rooms_per_creator),
    )
    messages = MessageService(
        store,
        rooms_,
        origin=settings.instance_id,
        outbox=outbox,
        metrics=meter,
        limits=MessageLimits(
            max_text_chars=settings.max_message_text_chars,
            max_content_bytes=settings.max_message_content_bytes,
            history=settings.history_limit,
            catch_up_max_bytes=settings.catch_up_max_bytes,
        ),
        cache_recent=True,
        commits_in_flight=settings.commits_in_flight,
    )
    replay = Replay(
        store,
        rooms_,
        settings.instance_id,
        max_bytes=settings.catch_up_max_bytes,
        catch_up=settings.catch_up_limit,
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
        meter,
        channels=channels,
        attendance=presence if settings.presence_enabled else None,
    )
    fanout = Fanout(hub, bus, settings.instance_id)
    # Every instance's membership cache follows the room events it hears (a member
    # who left or was removed is forgotten at once); the hub sends away their sockets.
    fanout.on_event(rooms_.apply)
    # Joins are served from each room's newest messages in memory, kept exact by its events.
    fanout.on_event(messages.heard)
    activity = Activity(hub, store.reads, settings.activity_interval_ms / 1000)
    fanout.on_event(activity.heard)
    if settings.presence_enabled:
        fanout.on_internal(presence.heard)
        fanout.on_event(presence.heard_event)
    dispatcher = _webhook_dispatcher(settings, store, addresses, meter)
    fanout.on_event(dispatcher.heard)  # an event heard: endpoints may have one to send
    changes = MessageChanges(rooms_, recorder, messages.limits)
    reads = ReadState(store, rooms_, workspaces_)
    receipts = Receipts(
        fanout,
        settings.instance_id,
        reads.shares_receipts,
        settings.read_receipt_interval_ms / 1000,
    )
    handlers = Handlers(
        rooms_,
        messages,
        hub,
        fanout,
        settings.instance_id,
        public_base_url,
        changes,
        replay,
        reads,
        receipts,
        workspaces_,
        presence,
    )
    gateway = Gateway(
        sockets,
        hub,
        handlers.table(),
        GatewayLimits(
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
        ),
        OriginPolicy.parse(settings.ws_allowed_origins, public_base_url),
        meter,
    )
    _measure_levels(meter, gateway, hub, bus, outbox)
    access = MetricsAccess(settings.metrics_token, settings.metrics_address is not None)
    stop_metrics_server = None
    if settings.metrics_address:
        stop_metrics_server = serve_separately(meter, access, settings.metrics_address)
    gateway.sinks.announce()
    messages.start()
    hub.start()
    presence.start()
    await bus.start(fanout.event_from_bus, fanout.signal_from_bus)
    if outbox is not None:
        outbox.start()
    await sockets.start()
    dispatcher.start()
    return Services(
        store,
        bus,
        outbox,
        users,
        workspaces_,
        rooms_,
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
        metrics_access=access,
        api_keys=keys,
        webhooks=webhooks_,
        webhook_dispatcher=dispatcher,
        activity=activity,
        rest_sends=RateLimiter(settings.rest_send_limit, "sending too fast; slow down"),
        stop_metrics_server=stop_metrics_server,
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


async def stop_services(services: Services) -> None:
    """Stop every part in order: each step bounded, and each runs whatever the one before
    did (failed, timed out, or raised a CancelledError of its own)."""
    finished = [
        await run_step(name, step, SHUTDOWN_STEP_TIMEOUT_S)
        for name, step in _shutdown_steps(services)
    ]
    if all(finished):
        log.info("roomchat stopped cleanly")
    else:
        log.warning("roomchat stopped; %d shutdown steps did not finish", finished.count(False))


def _shutdown_steps(services: Services) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    stop_metrics_server = services.stop_metrics_server
    if stop_metrics_server is not None:
        steps.append(("the metrics server", lambda: asyncio.to_thread(stop_metrics_server)))
    # Its leases handed back: another instance delivers those endpoints from now.
    steps.append(("the webhook dispatcher", services.webhook_dispatcher.close))
    # The writer first, then the outbox: what it stores last still reaches the bus
    # before the bus closes.
    steps.append(("the token revocation poll", services.sockets.close))
    steps.append(("the message writer", services.messages.close))
    if services.outbox is not None:
        steps.append(("the outbox relay", services.outbox.close))
    steps += [
        ("the bus", services.bus.close),
        ("presence", services.presence.close),
        ("room activity", services.activity.close),
        ("the hub", services.hub.close),
        ("the store", services.store.close),
    ]
    return steps
