"""The /ws endpoint: authenticate, then read frames and dispatch them to handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from roomchat.domain.users import UserService
from roomchat.errors import ChatError, Code
from roomchat.realtime import protocol
from roomchat.realtime.connection import Connection, Flusher, TokenBucket
from roomchat.realtime.handlers import Handler
from roomchat.realtime.hub import Hub
from roomchat.realtime.sinks import sink_for

log = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401


@dataclass
class GatewayLimits:
    outbound_queue_frames: int
    send_rate_per_second: float
    send_burst: int
    typing_rate_per_second: float = 5.0
    typing_burst: int = 10


class Gateway:
    def __init__(
        self, users: UserService, hub: Hub, handlers: dict[str, Handler], limits: GatewayLimits
    ) -> None:
        self._users = users
        self._hub = hub
        self._handlers = handlers
        self._limits = limits
        self.connections = 0
        self._flusher = Flusher()

    async def __call__(self, websocket: WebSocket) -> None:
        token = websocket.query_params.get("token") or _bearer(websocket)
        try:
            user = await self._users.authenticate(token or "")
        except ChatError:
            # Refused before the handshake completes: the client sees HTTP 403.
            await websocket.close(code=UNAUTHORIZED_CLOSE)
            return
        await websocket.accept()
        limits = self._limits
        conn = Connection(
            user,
            sink_for(websocket),
            self._flusher,
            limits.outbound_queue_frames,
            TokenBucket(limits.send_rate_per_second, limits.send_burst),
            TokenBucket(limits.typing_rate_per_second, limits.typing_burst),
        )
        self.connections += 1
        try:
            await self._serve(websocket, conn)
        finally:
            self.connections -= 1
            self._hub.drop(conn)
            await conn.aclose()

    async def _serve(self, websocket: WebSocket, conn: Connection) -> None:
        while True:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                text = message.get("bytes") or b""
            reply = await self._dispatch(conn, text)
            if reply is not None:
                conn.send(reply)

    async def _dispatch(self, conn: Connection, text: str | bytes) -> bytes | None:
        action, request_id = "error", None
        try:
            envelope = protocol.parse_envelope(text)
            action, request_id = envelope.action, envelope.request_id
            handler = self._handlers.get(action)
            if handler is None:
                known = ", ".join(sorted(self._handlers))
                raise ChatError(Code.UNKNOWN_ACTION, f"unknown action {action!r}; known: {known}")
            return await handler(conn, envelope)
        except ChatError as err:
            return protocol.error(action, err, request_id)
        except Exception:
            log.exception("action %s failed", action)
            internal = ChatError(Code.INTERNAL_ERROR, "something went wrong on our side")
            return protocol.error(action, internal, request_id)


def _bearer(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
