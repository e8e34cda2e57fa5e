"""Requests over a connection, matched to their replies by request_id."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

from roomchat.client.connection import Connection, Frame
from roomchat.client.errors import ConnectionLost, RequestError

# Runs in the reader as the reply arrives, before any later frame is handled: a join
# reply's room state must be in place before the room's next broadcast is looked at.
ReplyHook = Callable[[Frame], None]


@dataclass
class _Waiting:
    reply: asyncio.Future[Frame]
    on_reply: ReplyHook | None


class Requests:
    """The requests waiting for a reply: at most ``limit`` at a time (more wait for a
    slot), so a caller that fires requests in a loop cannot grow this without bound; a
    reply not there within ``timeout`` seconds raises ``TimeoutError``."""

    def __init__(self, limit: int, timeout: float) -> None:
        self.timeout = timeout
        self._slots = asyncio.Semaphore(limit)
        self._waiting: dict[str, _Waiting] = {}

    async def call(
        self,
        connection: Connection,
        action: str,
        payload: Mapping[str, Any],
        on_reply: ReplyHook | None = None,
    ) -> Any:
        """Send and wait for the reply; its ``data``. Raises ``RequestError`` for an error
        reply, ``ConnectionLost`` if the socket went away first, ``TimeoutError``."""
        async with self._slots:
            request_id = uuid.uuid4().hex
            reply = asyncio.get_running_loop().create_future()
            self._waiting[request_id] = _Waiting(reply, on_reply)
            try:
                await connection.send(action, payload, request_id)
                frame = await asyncio.wait_for(reply, self.timeout)
            except ConnectionClosed as closed:
                raise ConnectionLost(f"{action}: the connection closed") from closed
            finally:
                self._waiting.pop(request_id, None)
        if frame.get("status") == "error":
            raise RequestError.from_error(frame.get("error"))
        return frame.get("data")

    def resolve(self, frame: Frame) -> None:
        """A reply arrived (the reader calls this); one nobody waits for any more is dropped."""
        waiting = self._waiting.pop(str(frame.get("request_id")), None)
        if waiting is None or waiting.reply.done():
            return
        if waiting.on_reply is not None:
            waiting.on_reply(frame)
        waiting.reply.set_result(frame)

    def fail_all(self, reason: str) -> None:
        """The connection is gone: every reply still awaited will never come."""
        for waiting in self._waiting.values():
            if not waiting.reply.done():
                waiting.reply.set_exception(ConnectionLost(reason))
        self._waiting.clear()
