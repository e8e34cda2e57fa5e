"""One client's WebSocket: who it is, what it joined, and its bounded outbound queue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from roomchat.domain.models import User
from roomchat.realtime.sinks import FrameSink

log = logging.getLogger(__name__)

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
    """Frames go out without the sender awaiting, so one slow socket never holds up a broadcast.

    A frame is written at once when the socket can take it; otherwise it waits in a
    bounded queue that a writer task (started only then) drains. A client whose
    queue overflows is disconnected (1013) rather than buffered without limit; it
    reconnects and catches up with ``after_seq``.
    """

    __slots__ = (
        "_closed",
        "_closer",
        "_max_queue",
        "_queue",
        "_sink",
        "_writer",
        "rooms",
        "send_bucket",
        "typing_bucket",
        "user",
    )

    def __init__(
        self,
        user: User,
        sink: FrameSink,
        max_queue: int,
        send_bucket: TokenBucket,
        typing_bucket: TokenBucket,
    ) -> None:
        self.user = user
        self.rooms: set[int] = set()
        self.send_bucket = send_bucket
        self.typing_bucket = typing_bucket
        self._sink = sink
        self._max_queue = max_queue
        self._queue: deque[bytes] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, frame: bytes) -> None:
        if self._closed:
            return
        queue = self._queue
        if not queue and self._sink.try_write(frame):
            return
        if len(queue) >= self._max_queue:
            self._disconnect_slow()
            return
        queue.append(frame)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while queue and not self._closed:
                await self._sink.write(queue[0])
                queue.popleft()
        except Exception:  # the socket went away; the receive loop notices and cleans up
            self._closed = True
        finally:
            self._writer = None

    def _disconnect_slow(self) -> None:
        log.warning("user %s: outbound queue full, disconnecting slow client", self.user.id)
        self._closed = True
        self._queue.clear()
        self._closer = asyncio.create_task(
            self._sink.close(SLOW_CONSUMER, "too slow: reconnect and catch up")
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
