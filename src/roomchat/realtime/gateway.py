"""The /ws endpoint: authenticate, then read frames and dispatch them to handlers."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from roomchat.errors import ChatError, Code, unavailable
from roomchat.logs import request_id_var
from roomchat.metrics import Metrics
from roomchat.outages import Unavailability
from roomchat.realtime import protocol
from roomchat.realtime.connection import (
    Connection,
    Flusher,
    OutboundLimits,
    StallSweep,
    TokenBucket,
)
from roomchat.realtime.handlers import Action, Limit
from roomchat.realtime.hub import Hub
from roomchat.realtime.origins import OriginPolicy
from roomchat.realtime.sessions import SocketSessions
from roomchat.realtime.sinks import Sinks

log = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401
TOO_MANY_CONNECTIONS_CLOSE = 4429  # the user already has max_ws_per_user sockets open here
# An unknown action is named in its error reply only when it looks like an action name:
# an error reply echoes nothing else the client sent (request_id aside).
_PLAIN_ACTION = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SEND = "send_room_chat_message"  # its reply time is roomchat_send_ack_seconds


@dataclass
class GatewayLimits:
    outbound_queue_frames: int
    send_rate_per_second: float
    send_burst: int
    typing_rate_per_second: float = 5.0
    typing_burst: int = 10
    outbound_buffer_bytes: int = 4 * 1024 * 1024
    write_timeout_s: float = 30.0
    join_rate_per_second: float = 2.0
    join_burst: int = 10
    max_ws_per_user: int = 20
    edit_rate_per_second: float = 5.0
    edit_burst: int = 20
    read_rate_per_second: float = 5.0
    read_burst: int = 20


class Gateway:
    def __init__(
        self,
        sessions: SocketSessions,
        hub: Hub,
        actions: dict[str, Action[Any]],
        limits: GatewayLimits,
        origins: OriginPolicy,
        metrics: Metrics,
        is_unavailable: Unavailability,
    ) -> None:
        self._metrics = metrics
        self._is_unavailable = is_unavailable
        self._sessions = sessions
        self._hub = hub
        self._actions = actions
        self._limits = limits
        self._origins = origins
        self._outbound = OutboundLimits(
            limits.outbound_buffer_bytes,
            limits.outbound_queue_frames,
            limits.write_timeout_s,
            on_slow=self._metrics.slow_clients.inc,
        )
        self.connections = 0
        self._per_user: dict[int, int] = {}  # open sockets per user id, on this instance
        self._stalls = StallSweep(limits.write_timeout_s)
        self._flusher = Flusher()
        self.sinks = Sinks()

    async def __call__(self, websocket: WebSocket) -> None:
        if not self._origins.allows(websocket.headers.get("origin"), websocket.headers.get("host")):
            # Before the handshake completes (and before any token is looked at): HTTP 403.
            await websocket.close()
            return
        session = await self._sessions.authenticate(websocket)  # ticket, bearer or ?token=
        if session is None:
            # Refused before the handshake completes: the client sees HTTP 403.
            await websocket.close(code=UNAUTHORIZED_CLOSE)
            return
        user = session.user
        await websocket.accept()
        limits = self._limits
        if not self._admit(user.id):
            await websocket.close(
                TOO_MANY_CONNECTIONS_CLOSE,
                f"too_many_connections: at most {limits.max_ws_per_user} per user",
            )
            return
        sink = self.sinks.open(websocket)
        conn = Connection(
            user,
            sink,
            self._flusher,
            self._outbound,
            {
                Limit.SEND: TokenBucket(limits.send_rate_per_second, limits.send_burst),
                Limit.TYPING: TokenBucket(limits.typing_rate_per_second, limits.typing_burst),
                Limit.JOIN: TokenBucket(limits.join_rate_per_second, limits.join_burst),
                Limit.CHANGE: TokenBucket(limits.edit_rate_per_second, limits.edit_burst),
                Limit.READ: TokenBucket(limits.read_rate_per_second, limits.read_burst),
            },
        )
        self.connections += 1
        self._stalls.add(conn)
        live = self._sessions.opened(session, sink.close)  # closed at expiry or revocation
        self._hub.attach(conn)
        try:
            await self._serve(websocket, conn)
        finally:
            self._sessions.closed(live)
            self.connections -= 1
            self._release(user.id)
            self._stalls.discard(conn)
            self._hub.drop(conn)
            await conn.aclose()

    def _admit(self, user_id: int) -> bool:
        open_now = self._per_user.get(user_id, 0)
        if open_now >= self._limits.max_ws_per_user:
            return False
        self._per_user[user_id] = open_now + 1
        return True

    def _release(self, user_id: int) -> None:
        left = self._per_user.pop(user_id, 1) - 1
        if left > 0:
            self._per_user[user_id] = left

    async def _serve(self, websocket: WebSocket, conn: Connection) -> None:
        # A connection closed for being too slow does no more work for its client.
        while not conn.closed:
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
            # This connection's task logs under the frame's id until the next frame.
            request_id_var.set(request_id)  # checked if a line is logged (logs.py)
            spec = self._actions.get(action)
            if spec is None:
                if not _PLAIN_ACTION.fullmatch(action):
                    action = "error"
                known = ", ".join(sorted(self._actions))
                raise ChatError(Code.UNKNOWN_ACTION, f"unknown action; known: {known}")
            if action != SEND:
                return await _run(spec, conn, envelope)
            started = time.perf_counter()
            reply = await _run(spec, conn, envelope)
            self._metrics.send_ack.observe(time.perf_counter() - started)
            return reply
        except ChatError as err:
            self._metrics.error(err.code, action)
            return protocol.error(action, err, request_id)
        except Exception as exc:
            if self._is_unavailable(exc):  # the database down or too slow: nothing to debug
                log.warning("action %s failed: the database is unavailable", action)
                down = unavailable()
                self._metrics.error(down.code, action)
                return protocol.error(action, down, request_id)
            log.exception("action %s failed", action)
            internal = ChatError(Code.INTERNAL_ERROR, "something went wrong on our side")
            self._metrics.error(internal.code, action)
            return protocol.error(action, internal, request_id)


async def _run(spec: Action[Any], conn: Connection, envelope: protocol.Envelope) -> bytes | None:
    """Parse the payload, take from the action's rate limit, run it (handlers.Action)."""
    payload = protocol.parse_payload(spec.payload, envelope.payload)
    if spec.limit is not None and not conn.buckets[spec.limit].take():
        raise ChatError(Code.RATE_LIMITED, spec.refusal)
    return await spec.run(conn, envelope, payload)
