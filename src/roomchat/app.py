"""create_app(settings): the ASGI app around an Instance (instance.py), which its
lifespan builds, starts and closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from roomchat import __version__
from roomchat.api import documents
from roomchat.api.middleware import (
    MULTIPART_OVERHEAD,
    BodyLimit,
    RequestId,
    SecurityHeaders,
    is_api_path,
)
from roomchat.api.responses import (
    DATABASE_ERRORS,
    MethodIndex,
    on_chat_error,
    on_database_error,
    on_http_error,
    on_validation_error,
)
from roomchat.api.routes import (
    api_keys,
    attachments,
    auth,
    direct_chats,
    health,
    invitations,
    metrics,
    room_users,
    rooms,
    users,
    webhooks,
    workspaces,
)
from roomchat.avatars import MAX_AVATAR_BYTES
from roomchat.bus.base import Bus
from roomchat.errors import ChatError
from roomchat.instance import Instance, build_bus
from roomchat.settings import Settings

WEB_DIR = Path(__file__).parent / "web"
WS_PATH = "/ws"


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


class WebClientMount(Mount):
    """The web client's files under "/", except on the API's paths: there a route that
    exists with another method answers 405 ``method_not_allowed`` (the router's partial
    match), and an unknown path 404, instead of the file server's 404."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def create_app(settings: Settings | None = None, bus: Bus | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Built here, not at create_app: its parts belong to the server's event loop.
        instance = Instance(settings, bus or build_bus(settings))
        await instance.start()
        app.state.services = instance.services
        try:
            yield
        finally:
            await instance.close()

    app = RoomchatAPI(
        title="roomchat",
        version=__version__,
        description="Workspace-based room chat. The WebSocket protocol: /asyncapi.yaml "
        "(AsyncAPI 3) and docs/protocol.md.",
        lifespan=lifespan,
        # /docs is served from the package (api/documents.py); ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    # The last added is the outermost: security headers go on the body limit's 413 too.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={users.AVATAR_PATH: max(settings.max_body_bytes, MAX_AVATAR_BYTES)},
        upload_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD,
    )
    app.add_middleware(
        SecurityHeaders,
        files_origin=settings.files_origin(),
        avatars_base_url=settings.resolved_public_base_url(),
    )
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
        direct_chats,
        invitations,
        users,
        metrics,
        attachments,
    )
    for module in routes:
        app.include_router(module.router)
    documents.install(app)
    app.state.method_index = MethodIndex(
        [*app.router.routes, *(route for module in routes for route in module.router.routes)]
    )

    if settings.serve_web_client and (WEB_DIR / "index.html").exists():

        @app.get("/join/{join_token}", include_in_schema=False)
        async def join_page(join_token: str) -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

        app.router.routes.append(
            WebClientMount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web")
        )
    return app
