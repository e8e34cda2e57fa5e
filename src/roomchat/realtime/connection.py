"""One client's WebSocket: who it is, what it joined, and its bounded outbound queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from roomchat.domain.models import User

log = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Coroutine[Any, Any, None]]

SLOW_CONSUMER = 1013  # "try again later": the client fell too far behind; reconnect and catch up


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class Connection:
    """Frames are queued without awaiting, so one slow socket never holds up a broadcast.

    The queue is bounded: a client that cannot keep up is disconnected (1013) rather
    than buffered without limit; it reconnects and catches up with ``after_seq``.
    """

    def __init__(
        self,
        user: User,
        send_text: SendText,
        close: Close,
        max_queue: int,
        send_bucket: TokenBucket,
        typing_bucket: TokenBucket,
    ) -> None:
        self.user = user
        self.rooms: set[int] = set()
        self.send_bucket = send_bucket
        self.typing_bucket = typing_bucket
        self._send_text = send_text
        self._close = close
        self._max_queue = max_queue
        self._queue: deque[str] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self._closer: asyncio.Task[None] | None = None
        self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{user.id}")

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, frame: str) -> None:
        if self._closed:
            return
        if len(self._queue) >= self._max_queue:
            log.warning("user %s: outbound queue full, disconnecting slow client", self.user.id)
            self._closed = True
            self._queue.clear()
            self._closer = asyncio.create_task(
                self._close(SLOW_CONSUMER, "too slow: reconnect and catch up")
            )
            return
        self._queue.append(frame)
        self._ready.set()

    async def _write_loop(self) -> None:
        queue = self._queue
        try:
            while not self._closed:
                await self._ready.wait()
                self._ready.clear()
                while queue:
                    await self._send_text(queue.popleft())
        except Exception:  # the socket went away; the receive loop notices and cleans up
            self._closed = True

    async def aclose(self) -> None:
        self._closed = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
