"""One client's WebSocket: who it is, what it joined, and its bounded outbound queue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from roomchat.domain.models import User
from roomchat.realtime.sinks import FrameSink, WireFrames

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


class Flusher:
    """Writes every connection's frames of one event-loop pass together.

    Frames sent while the loop runs its ready callbacks (say, the broadcasts of a
    whole group-commit batch) are corked per connection and written in one system
    call per socket at the end of the pass: the same latency, far fewer writes.
    """

    def __init__(self) -> None:
        self._dirty: list[Connection] = []
        self._wire = WireFrames()

    def mark(self, conn: Connection) -> None:
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        self._dirty.append(conn)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        try:
            for conn in dirty:
                conn.flush(self._wire)
        finally:
            self._wire.clear()


class Connection:
    """Frames go out without the sender awaiting, so one slow socket never holds up a broadcast.

    A frame is corked until the end of the loop pass, then written at once when the
    socket can take it; otherwise it waits in a bounded queue that a writer task
    (started only then) drains. A client whose queue overflows is disconnected
    (1013) rather than buffered without limit; it reconnects and catches up with
    ``after_seq``.
    """

    __slots__ = (
        "_closed",
        "_closer",
        "_corked",
        "_flusher",
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
        flusher: Flusher,
        max_queue: int,
        send_bucket: TokenBucket,
        typing_bucket: TokenBucket,
    ) -> None:
        self.user = user
        self.rooms: set[int] = set()
        self.send_bucket = send_bucket
        self.typing_bucket = typing_bucket
        self._sink = sink
        self._flusher = flusher
        self._corked: list[bytes] | None = None
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
        if self._queue:  # the slow path is draining: stay behind it
            self._enqueue(frame)
        elif self._corked is None:
            self._corked = [frame]
            self._flusher.mark(self)
        else:
            self._corked.append(frame)

    def flush(self, wire: WireFrames) -> None:
        frames, self._corked = self._corked, None
        if self._closed or not frames:
            return
        if not self._queue and self._sink.try_write(frames, wire):
            return
        for frame in frames:
            self._enqueue(frame)

    def _enqueue(self, frame: bytes) -> None:
        if self._closed:
            return
        if len(self._queue) >= self._max_queue:
            self._disconnect_slow()
            return
        self._queue.append(frame)
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
