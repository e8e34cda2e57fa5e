"""create_app(settings): the ASGI app; its lifespan builds store, bus, services and hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
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

from roomchat import __version__, jsoncodec
from roomchat.api.middleware import BodyLimit, SecurityHeaders
from roomchat.api.responses import (
    ERROR_RESPONSES,
    on_chat_error,
    on_http_error,
    on_validation_error,
)
from roomchat.api.routes import auth, health, invitations, room_users, rooms, workspaces
from roomchat.bus.base import Bus
from roomchat.bus.memory import MemoryBus
from roomchat.bus.outbox_relay import NeedsOutbox
from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.domain.models import Message
from roomchat.domain.rooms import RoomService
from roomchat.domain.sessions import SessionService
from roomchat.domain.throttle import LoginThrottle
from roomchat.domain.users import UserService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError
from roomchat.realtime.fanout import Fanout
from roomchat.realtime.gateway import Gateway, GatewayLimits
from roomchat.realtime.handlers import Handlers
from roomchat.realtime.hub import Hub
from roomchat.realtime.origins import OriginPolicy
from roomchat.realtime.sessions import SocketSessions
from roomchat.services import Services
from roomchat.settings import Settings
from roomchat.store import Store
from roomchat.store.outbox import OutboxStore

log = logging.getLogger("roomchat")
WEB_DIR = Path(__file__).parent / "web"
WS_PATH = "/ws"


def encode_message(message: Message) -> bytes:
    return jsoncodec.dumps(message.to_dict())


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
        from roomchat.bus.kafka import KafkaBus  # only instances that use Kafka import it

        return KafkaBus(settings)
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
    app.add_exception_handler(ChatError, on_chat_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    for module in (health, auth, workspaces, rooms, room_users, invitations):
        app.include_router(module.router)

    if settings.serve_web_client and (WEB_DIR / "index.html").exists():

        @app.get("/join/{join_token}", include_in_schema=False)
        async def join_page(join_token: str) -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


async def start_services(settings: Settings, bus: Bus) -> Services:
    store = Store.connect(settings.resolved_database_url(), settings.database_pool_size)
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
    )
    sockets = SocketSessions(sessions, settings.revocation_poll_interval_s)
    workspaces_ = WorkspaceService(store)
    rooms_ = RoomService(
        store,
        workspaces_,
        settings.passcode_max_failures,
        timedelta(seconds=settings.passcode_window_seconds),
    )
    messages = MessageService(
        store,
        rooms_,
        encode_message,
        origin=settings.instance_id,
        use_outbox=bus.uses_outbox,
        limits=MessageLimits(
            max_text_chars=settings.max_message_text_chars,
            max_content_bytes=settings.max_message_content_bytes,
            history=settings.history_limit,
            catch_up=settings.catch_up_limit,
            catch_up_max_bytes=settings.catch_up_max_bytes,
        ),
    )
    hub = Hub(
        store.rooms.last_seq,
        messages.events_between,
        settings.gap_fill_delay_ms / 1000,
        last_seqs=store.rooms.last_seqs,
        sweep_interval=settings.sweep_interval_s,
    )
    # A member who leaves a workspace stops getting its rooms on this instance's sockets.
    workspaces_.on_member_left(hub.remove_user)
    fanout = Fanout(hub, bus, settings.instance_id)
    handlers = Handlers(rooms_, messages, hub, fanout, settings.instance_id, public_base_url)
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
        ),
        OriginPolicy.parse(settings.ws_allowed_origins, public_base_url),
    )
    messages.start()
    hub.start()
    if isinstance(bus, NeedsOutbox):
        bus.attach_outbox(OutboxStore(store.engine))
    await bus.start(fanout.from_bus)
    await sockets.start()
    return Services(
        settings,
        store,
        bus,
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
    )


async def stop_services(services: Services) -> None:
    # The writer first: what it stores last still reaches the bus before it closes.
    await services.sockets.close()
    await services.messages.close()
    await services.bus.close()
    await services.hub.close()
    await services.store.close()
