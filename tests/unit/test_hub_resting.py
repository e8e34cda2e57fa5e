"""A channel outlives its last member for a while, still following its room, so that
joining the room again needs no database read; it is dropped when it cannot be
trusted (a gap, or what a sweep found missing) and when idle or too many."""

from __future__ import annotations

from roomchat.metrics import Metrics
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.store.database import is_unavailable
from tests.unit.test_hub import ROOM, Database, FakeConnection, joined, message


class CountingDatabase(Database):
    def __init__(self, last_seq: int = 0) -> None:
        super().__init__(last_seq)
        self.seq_reads = 0

    async def last_seq(self, room_id: int) -> int:
        self.seq_reads += 1
        return await super().last_seq(room_id)


async def resting_room(db: CountingDatabase) -> Hub:
    """A hub whose channel for ROOM rests: joined once, then left by its only member."""
    hub = Hub(
        db,
        60.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )
    conn = FakeConnection(2)
    await joined(hub, conn)
    hub.leave(conn, ROOM)  # type: ignore[arg-type]
    return hub


async def test_joining_again_after_everyone_left_reads_no_database() -> None:
    db = CountingDatabase(last_seq=2)
    hub = Hub(
        db,
        60.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )
    first = FakeConnection(2)
    await joined(hub, first, history_seq=2)
    hub.drop(first)  # type: ignore[arg-type]
    assert hub.room_count == 0 and not hub.has_channel(ROOM)
    # Events while nobody is joined: followed, delivered to no one.
    hub.deliver(message(3))
    hub.deliver(message(4))
    assert first.seqs == []
    assert hub.delivered(ROOM) == 4

    again = FakeConnection(3)
    await joined(hub, again, history_seq=4)
    hub.deliver(message(5))
    assert again.seqs == [5]
    assert db.seq_reads == 1  # only the first join asked where the room stands
    assert hub.room_count == 1 and hub.has_channel(ROOM)


async def test_a_resting_channel_that_sees_a_gap_is_dropped_and_the_next_join_reads_again() -> None:
    db = CountingDatabase(last_seq=0)
    hub = await resting_room(db)
    hub.deliver(message(2))  # seq 1 never came: nobody here waits for it
    assert hub.delivered(ROOM) is None
    assert db.fills == []  # no database read for a room nobody here is in

    db.newest = 2
    again = FakeConnection(3)
    await joined(hub, again, history_seq=2)
    hub.deliver(message(3))
    assert again.seqs == [3]
    assert db.seq_reads == 2


async def test_a_resting_channel_behind_the_database_at_a_sweep_is_dropped() -> None:
    db = CountingDatabase(last_seq=0)
    hub = await resting_room(db)
    db.newest = 1  # stored, but the bus lost it
    await hub.sweep()  # remembers what the database held
    await hub.sweep()  # still not delivered a sweep later
    assert hub.delivered(ROOM) is None
    assert db.fills == []


async def test_resting_channels_are_bounded_in_number_and_time() -> None:
    now = [0.0]
    rest_s = 600.0
    channels = Channels(clock=lambda: now[0], rest_rooms=2, rest_s=rest_s)
    hub = Hub(
        Database(),
        60.0,
        metrics=Metrics("unit"),
        channels=channels,
        attendance=None,
        is_unavailable=is_unavailable,
    )
    conn = FakeConnection(2)
    for room_id in (1, 2, 3):
        await hub.begin_join(conn, room_id)  # type: ignore[arg-type]
        hub.complete_join(conn, room_id, b"{}", 0)  # type: ignore[arg-type]
    for room_id in (1, 2, 3):
        hub.leave(conn, room_id)  # type: ignore[arg-type]
    assert [hub.delivered(r) for r in (1, 2, 3)] == [None, 0, 0]  # the oldest went

    now[0] += rest_s + 1
    await hub.begin_join(conn, 4)  # type: ignore[arg-type]
    hub.complete_join(conn, 4, b"{}", 0)  # type: ignore[arg-type]
    hub.leave(conn, 4)  # type: ignore[arg-type]
    assert [hub.delivered(r) for r in (2, 3, 4)] == [None, None, 0]
