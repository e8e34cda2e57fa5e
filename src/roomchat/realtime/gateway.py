"""The /ws endpoint: authenticate, then read frames and dispatch them to handlers."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from roomchat.domain.sessions import Refused
from roomchat.errors import ChatError, Code, rate_limited, unavailable
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
from roomchat.realtime.sinks import Sinks, sink_for

log = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401  # reason: domain/sessions.py Refusal
FORBIDDEN_ORIGIN_CLOSE = 4403
ORIGIN_NOT_ALLOWED = "origin_not_allowed"
TOO_MANY_CONNECTIONS_CLOSE = 4429  # the user already has max_ws_per_user sockets open here
TRY_AGAIN_LATER_CLOSE = 1013  # the database was unavailable for the handshake
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
        # A refused handshake is accepted and closed at once with a code and a reason:
        # refused at the HTTP level (403), a browser would see only 1006, and no why.
        if not self._origins.allows(websocket.headers.get("origin"), websocket.headers.get("host")):
            # Before any credential is looked at (a foreign page learns nothing of it).
            await self._refuse(websocket, FORBIDDEN_ORIGIN_CLOSE, ORIGIN_NOT_ALLOWED)
            return
        try:
            session = await self._sessions.authenticate(websocket)  # ticket, bearer or ?token=
        except Refused as refused:
            await self._refuse(websocket, UNAUTHORIZED_CLOSE, refused.reason.value)
            return
        except Exception as exc:
            if not self._is_unavailable(exc):
                raise
            # The database down or too slow (a connect storm past the pool's wait): say
            # "try again later" (1013) rather than a bare HTTP 500 the browser sees as 1006.
            log.warning("WebSocket handshake failed: the database is unavailable")
            await self._refuse(websocket, TRY_AGAIN_LATER_CLOSE, "unavailable")
            return
        user = session.user
        limits = self._limits
        if not self._admit(user.id):  # only an authenticated socket counts
            await self._refuse(
                websocket,
                TOO_MANY_CONNECTIONS_CLOSE,
                f"too_many_connections: at most {limits.max_ws_per_user} per user",
            )
            return
        try:
            await websocket.accept()
        except BaseException:  # the client went away meanwhile: it holds no place
            self._release(user.id)
            raise
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

    async def _refuse(self, websocket: WebSocket, code: int, reason: str) -> None:
        """Accept the upgrade and close it at once with ``code`` and ``reason``; nothing is
        read or served in between. Bounded: the close frame gets the write timeout to go
        out, and a client that does not answer it is dropped soon after (the sink's
        close), so refused sockets opened in a flood are not held."""
        log.info("WebSocket refused: %d %s", code, reason)  # never the credential
        try:
            async with asyncio.timeout(self._limits.write_timeout_s):
                await websocket.accept()
                await sink_for(websocket).close(code, reason)
        except Exception:  # timed out, or the client went away first: nothing to close
            log.debug("closing a refused WebSocket (%d %s) failed", code, reason, exc_info=True)

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
    if spec.limit is not None:
        bucket = conn.buckets[spec.limit]
        if not bucket.take():
            raise rate_limited(spec.refusal, bucket.retry_after_ms())
    return await spec.run(conn, envelope, payload)
