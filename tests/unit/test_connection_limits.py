"""A connection's outbound buffer is bounded in bytes, frames and time (close 1013)."""

from __future__ import annotations

import asyncio

import pytest

from roomchat.domain.models import User
from roomchat.realtime.connection import SLOW_CONSUMER, Connection, Flusher, OutboundLimits
from roomchat.realtime.wire import WireFrames

HIGH_WATER = 1000  # the fake transport stops taking writes above this many bytes


class FakeSink:
    """A transport that holds what it was given until the test lets the client read it."""

    def __init__(self) -> None:
        self.held = 0
        self.written: list[bytes] = []
        self.batches: list[int] = []  # frames per try_write
        self.writable = asyncio.Event()
        self.writable.set()
        self.closed = asyncio.Event()
        self.close_code: int | None = None

    def _take(self, frames: list[bytes]) -> None:
        self.written.extend(frames)
        self.held += sum(len(f) for f in frames)
        if self.held > HIGH_WATER:
            self.writable.clear()

    def read(self, n: int) -> None:
        """The client reads ``n`` bytes."""
        self.held = max(0, self.held - n)
        if self.held <= HIGH_WATER // 4:
            self.writable.set()

    def try_write(self, frames: list[bytes], wire: WireFrames) -> bool:
        if not self.writable.is_set():
            return False
        self.batches.append(len(frames))
        self._take(frames)
        return True

    def buffered(self) -> int:
        return self.held

    def backed_up(self) -> bool:
        return not self.writable.is_set()

    async def drained(self) -> None:
        await self.writable.wait()

    async def write(self, frame: bytes) -> None:
        await self.writable.wait()
        self._take([frame])

    async def close(self, code: int, reason: str) -> None:
        self.close_code = code
        self.closed.set()


def connection(
    sink: FakeSink, max_bytes: int = 10_000, max_frames: int = 1000, timeout: float = 5.0
) -> Connection:
    return Connection(
        User(1, "u1", "U1", None),
        sink,
        Flusher(),
        OutboundLimits(max_bytes, max_frames, timeout),
        {},
    )


async def settle() -> None:
    """Let the end-of-pass flush and the writer task run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_within_the_bound_wait_and_then_all_go_out_in_order() -> None:
    sink = FakeSink()
    conn = connection(sink)
    frames = [bytes([65 + n]) * 400 for n in range(10)]  # 4,000 bytes
    for frame in frames:
        conn.send(frame)
        await settle()
    assert not conn.closed
    assert len(sink.written) < len(frames)  # the transport backed up; the rest waits
    assert conn.outbound_bytes == sum(map(len, frames)) - sum(map(len, sink.written)) + sink.held
    while len(sink.written) < len(frames):
        sink.read(HIGH_WATER)
        await settle()
    assert sink.written == frames
    assert not conn.closed and sink.close_code is None


async def test_a_backlog_goes_out_in_one_write_once_the_transport_drains() -> None:
    """What waited while the transport was backed up is written in one go when it
    drains (the fast path), not a frame at a time through ASGI."""
    sink = FakeSink()
    conn = connection(sink)
    conn.send(b"x" * 1200)  # over the fake's high water: the transport backs up
    await settle()
    waiting = [bytes([65 + n]) * 50 for n in range(8)]
    for frame in waiting:
        conn.send(frame)
        await settle()
    assert sink.batches == [1] and sink.written == [b"x" * 1200]
    sink.read(HIGH_WATER * 2)
    await settle()
    assert sink.batches == [1, len(waiting)]
    assert sink.written == [b"x" * 1200, *waiting] and conn.outbound_bytes == sink.held


async def test_past_the_byte_bound_counting_the_transport_the_client_is_closed_1013() -> None:
    sink = FakeSink()
    conn = connection(sink, max_bytes=5_000)
    conn.send(b"x" * 3_000)  # written: the transport now holds 3,000 and backs up
    await settle()
    assert sink.held == 3_000 and not conn.closed
    conn.send(b"y" * 1_500)  # 3,000 held + 1,500 queued: still within 5,000
    await settle()
    assert not conn.closed and conn.outbound_bytes == 4_500
    conn.send(b"z" * 1_000)  # 5,500 > 5,000
    await settle()
    assert conn.closed
    await asyncio.wait_for(sink.closed.wait(), 1)
    assert sink.close_code == SLOW_CONSUMER
    assert conn.outbound_bytes == sink.held  # the queue is dropped at once
    conn.send(b"after close")
    await settle()
    assert conn.outbound_bytes == sink.held


async def test_one_write_that_leaves_the_transport_over_the_bound_closes_1013() -> None:
    sink = FakeSink()
    conn = connection(sink, max_bytes=5_000)
    conn.send(b"x" * 6_000)  # the fast path hands it all to the transport
    await settle()
    assert conn.closed
    await asyncio.wait_for(sink.closed.wait(), 1)
    assert sink.close_code == SLOW_CONSUMER


async def test_many_small_frames_past_the_frame_bound_close_1013() -> None:
    sink = FakeSink()
    sink.writable.clear()  # the client reads nothing
    conn = connection(sink, max_frames=8)
    for n in range(9):
        conn.send(b"%d" % n)
        await settle()
    assert conn.closed
    await asyncio.wait_for(sink.closed.wait(), 1)
    assert sink.close_code == SLOW_CONSUMER


async def test_a_transport_that_takes_nothing_for_the_write_timeout_is_closed_1013() -> None:
    sink = FakeSink()
    conn = connection(sink, timeout=0.2)
    conn.send(b"x" * 2_000)  # written, transport backed up; then traffic stops
    await settle()
    assert not conn.closed
    await asyncio.wait_for(sink.closed.wait(), 5)  # nothing else sent: the watch notices
    assert conn.closed and sink.close_code == SLOW_CONSUMER


async def test_queued_frames_that_cannot_be_written_for_the_timeout_close_1013() -> None:
    sink = FakeSink()
    sink.writable.clear()
    conn = connection(sink, timeout=0.2)
    conn.send(b"waiting")
    await asyncio.wait_for(sink.closed.wait(), 5)
    assert conn.closed and conn.outbound_bytes == 0


async def read_at(sink: FakeSink, conn: Connection, per_tick: int, frames: int) -> None:
    """The client reads ``per_tick`` bytes every 20 ms until all arrived or it is cut off."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (len(sink.written) < frames or sink.held) and not conn.closed:
        assert loop.time() < deadline, "neither drained nor cut off"
        sink.read(per_tick)
        await asyncio.sleep(0.02)  # the client's reading pace, not a synchronisation


async def test_a_client_that_takes_what_waits_within_the_timeout_is_not_cut_off() -> None:
    sink = FakeSink()
    conn = connection(sink, timeout=0.5)
    frames = [b"f" * 300 for _ in range(30)]  # 9,000 bytes, 9x the transport's high water
    for frame in frames:
        conn.send(frame)
    await read_at(sink, conn, 1_000, len(frames))  # 50 KB/s: 9 KB in well under 0.5 s
    assert not conn.closed and sink.close_code is None
    assert sink.written == frames


async def test_a_client_too_slow_to_take_what_waits_within_the_timeout_is_cut_off() -> None:
    sink = FakeSink()
    conn = connection(sink, timeout=0.2)
    frames = [b"f" * 300 for _ in range(30)]
    for frame in frames:
        conn.send(frame)
    await read_at(sink, conn, 10, len(frames))  # 500 B/s: the 9 KB would take 18 s
    await asyncio.wait_for(sink.closed.wait(), 1)
    assert conn.closed and sink.close_code == SLOW_CONSUMER
    assert conn.outbound_bytes == sink.held


async def test_aclose_drops_what_waits() -> None:
    sink = FakeSink()
    sink.writable.clear()
    conn = connection(sink)
    conn.send(b"a" * 100)
    conn.send(b"b" * 100)
    await settle()
    assert conn.outbound_bytes == 200
    await conn.aclose()
    assert conn.closed and conn.outbound_bytes == 0


@pytest.mark.parametrize("held", [0, 999])
async def test_the_broadcast_fast_path_starts_no_task_while_the_transport_keeps_up(
    held: int,
) -> None:
    sink = FakeSink()
    sink.held = held
    conn = connection(sink)
    before = len(asyncio.all_tasks())
    conn.send(b"x")
    await settle()
    assert sink.written == [b"x"] and len(asyncio.all_tasks()) == before


async def test_bytes_below_the_high_water_that_never_move_are_caught_by_the_sweep() -> None:
    sink = FakeSink()
    conn = connection(sink)
    conn.send(b"x" * 500)  # the transport keeps it (the client's window is shut) but
    await settle()  # is not backed up: no writer watches
    assert sink.held == 500 and not sink.backed_up()
    conn.sweep()
    assert not conn.closed
    sink.read(100)  # it moved: still alive
    conn.sweep()
    assert not conn.closed
    conn.sweep()  # a whole period without a byte leaving
    assert conn.closed
    await asyncio.wait_for(sink.closed.wait(), 1)
    assert sink.close_code == SLOW_CONSUMER


async def test_an_idle_connection_with_nothing_unsent_is_never_swept() -> None:
    sink = FakeSink()
    conn = connection(sink)
    for _ in range(3):
        conn.sweep()
    assert not conn.closed
