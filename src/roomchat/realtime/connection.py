"""One client's WebSocket: who it is, what it joined, and its bounded outbound buffer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from roomchat.domain.models import User
from roomchat.realtime.wire import FrameSink, WireFrames

log = logging.getLogger(__name__)

SLOW_CONSUMER = 1013  # "try again later": the client fell too far behind; reconnect and catch up


# The retry hint of a bucket that never refills (a rate of 0): no sooner than this.
NEVER_MS = 3_600_000


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up (``clock``: seconds, monotonic)."""

    __slots__ = ("_burst", "_clock", "_rate", "_stamp", "_tokens")

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()

    def take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def retry_after_ms(self) -> int:
        """Milliseconds until the next token (rounded up, at least 1): when a refused
        caller's next try goes through, if nothing else takes it first."""
        self._refill()
        missing = 1 - self._tokens
        if missing <= 0:
            return 1
        if self._rate <= 0 or self._burst < 1:
            return NEVER_MS
        return max(1, math.ceil(missing / self._rate * 1000))

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now


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


@dataclass(frozen=True, slots=True)
class OutboundLimits:
    """How far a connection may fall behind before it is closed with 1013."""

    max_bytes: int = 4 * 1024 * 1024  # queued frames plus what the transport holds
    max_frames: int = 1024
    write_timeout_s: float = 30.0  # waiting frames, and the transport took nothing this long
    on_slow: Callable[[], None] | None = None  # told of each connection cut off (metrics)


class Connection:
    """Frames go out without the sender awaiting, so one slow socket never holds up a broadcast.

    A frame is corked until the end of the loop pass, then written at once when the
    socket can take it; otherwise it waits in a queue that a writer task (started
    only then) drains. The queue is bounded in bytes, counting what the transport
    itself still holds, and in frames; a client past either bound, or whose socket
    took nothing for the write timeout while frames waited, is disconnected (1013)
    and its frames dropped, rather than buffered without limit. It reconnects and
    catches up with ``after_seq``.
    """

    __slots__ = (
        "_closed",
        "_closer",
        "_corked",
        "_flusher",
        "_held_at_sweep",
        "_limits",
        "_queue",
        "_queued_bytes",
        "_sink",
        "_writer",
        "buckets",
        "rooms",
        "user",
        "workspaces",
    )

    def __init__(
        self,
        user: User,
        sink: FrameSink,
        flusher: Flusher,
        limits: OutboundLimits,
        buckets: Mapping[str, TokenBucket],
    ) -> None:
        self.user = user
        self.rooms: set[int] = set()
        self.workspaces: set[int] = set()  # followed (subscribe_workspace)
        # The rate limits its actions take from, by name (realtime/handlers.py Limit).
        self.buckets = buckets
        self._sink = sink
        self._flusher = flusher
        self._corked: list[bytes] | None = None
        self._limits = limits
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._closed = False
        self._held_at_sweep = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def outbound_bytes(self) -> int:
        """Bytes waiting for this client: queued here plus held by the transport."""
        return self._queued_bytes + self._sink.buffered()

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
            # Written, but the transport may now hold more than it wants (a client that
            # stopped reading): watch it, or nothing would notice once traffic stops.
            if self._sink.backed_up():
                self._watch()
            return
        for frame in frames:
            self._enqueue(frame)

    def _enqueue(self, frame: bytes) -> None:
        if self._closed:
            return
        limits = self._limits
        self._queued_bytes += len(frame)
        if (
            len(self._queue) >= limits.max_frames
            or self._queued_bytes + self._sink.buffered() > limits.max_bytes
        ):
            self._disconnect_slow("outbound buffer full")
            return
        self._queue.append(frame)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())

    def _watch(self) -> None:
        if self._sink.buffered() > self._limits.max_bytes:
            self._disconnect_slow("outbound buffer full")
        elif self._writer is None:
            self._writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        """Write the queue out; a socket that takes nothing for the write timeout is cut off."""
        queue, sink = self._queue, self._sink
        timeout = self._limits.write_timeout_s
        wire = WireFrames()
        try:
            while not self._closed:
                if sink.backed_up():
                    async with asyncio.timeout(timeout):
                        await sink.drained()
                    continue
                if not queue:
                    break
                # Writable again: the whole backlog in one write where the sink can (the
                # fast path), rather than a frame at a time through ASGI.
                if sink.try_write(list(queue), wire):
                    wire.clear()
                    queue.clear()
                    self._queued_bytes = 0
                    continue
                frame = queue[0]
                async with asyncio.timeout(timeout):
                    await sink.write(frame)
                queue.popleft()
                self._queued_bytes -= len(frame)
        except TimeoutError:
            self._disconnect_slow(f"nothing could be written for {timeout:g}s")
        except Exception:  # the socket went away; the receive loop notices and cleans up
            self._closed = True
        finally:
            self._writer = None

    def sweep(self) -> None:
        """Called once per write timeout: the transport holding the very bytes it held
        last time (too few to back it up, so no writer watches) took nothing meanwhile."""
        held = self._sink.buffered()
        if held and held == self._held_at_sweep and self._writer is None:
            self._disconnect_slow("nothing could be written for a whole write timeout")
        self._held_at_sweep = held

    def _disconnect_slow(self, why: str) -> None:
        if self._closed:
            return
        log.warning("user %s: %s, disconnecting slow client", self.user.id, why)
        if self._limits.on_slow is not None:
            self._limits.on_slow()
        self._closed = True
        self._corked = None
        self._queue.clear()
        self._queued_bytes = 0
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()
        self._closer = asyncio.create_task(
            self._sink.close(SLOW_CONSUMER, "too slow: reconnect and catch up")
        )

    async def aclose(self) -> None:
        """Stop writing; wait (bounded by the sink) for a 1013 close still going out."""
        self._closed = True
        self._queue.clear()
        self._queued_bytes = 0
        if self._writer is not None:
            self._writer.cancel()
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer


class StallSweep:
    """Every ``period`` seconds, has each open connection check that its socket moved.

    A timer, armed only while connections are open: no task per connection, nothing
    on the broadcast path.
    """

    def __init__(self, period: float) -> None:
        self._period = period
        self._connections: set[Connection] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, conn: Connection) -> None:
        self._connections.add(conn)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._period, self._sweep)

    def discard(self, conn: Connection) -> None:
        self._connections.discard(conn)

    def _sweep(self) -> None:
        self._timer = None
        for conn in list(self._connections):
            conn.sweep()
        if self._connections:
            self._timer = asyncio.get_running_loop().call_later(self._period, self._sweep)
