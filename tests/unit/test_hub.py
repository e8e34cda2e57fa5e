"""The hub's per-room sequencing: in order, exactly once, gaps filled, joins without loss."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.kinds import NEW_MESSAGE, READ_UPDATED, TYPING
from roomchat.domain.models import User
from roomchat.metrics import Metrics
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.store.database import is_unavailable

ROOM = 7


class FakeConnection:
    """What the hub needs of a connection; keeps every frame it is sent, decoded."""

    def __init__(self, user_id: int) -> None:
        self.user = User(user_id, f"u{user_id}", f"U{user_id}", None)
        self.rooms: set[int] = set()
        self.workspaces: set[int] = set()
        self.closed = False
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    def send(self, frame: str | bytes) -> None:
        self.frames.append(json.loads(frame))
        self._arrived.set()

    @property
    def seqs(self) -> list[int]:
        return [f["data"]["seq"] for f in self.frames if f["action"] == "new_room_chat_message"]

    async def wait_for_seq(self, seq: int, timeout: float = 5.0) -> None:
        await self.wait_until(lambda: seq in self.seqs, timeout)

    async def wait_until(self, sent: Callable[[], bool], timeout: float = 5.0) -> None:
        """Until ``sent()`` holds of the frames this connection was sent."""

        async def wait() -> None:
            while not sent():
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(wait(), timeout)


def message(seq: int, room_id: int = ROOM, sender: int = 1) -> RoomEvent:
    data = json.dumps({"room_id": room_id, "seq": seq, "message_text": f"m{seq}"}).encode()
    return RoomEvent.build(room_id, seq, NEW_MESSAGE, data, "test")


def typing(sender: int, room_id: int = ROOM) -> RoomSignal:
    data = json.dumps({"room_id": room_id, "user_id": sender, "is_typing": True}).encode()
    return RoomSignal.build(room_id, sender, TYPING, data, "test")


class Database:
    """Stands in for the store (the hub's RoomLog): the room's last seq and its stored
    messages."""

    def __init__(self, last_seq: int = 0) -> None:
        self.newest = last_seq  # the room's seq counter
        self.stored: dict[int, RoomEvent] = {}
        self.fills: list[tuple[int, int]] = []
        self.fail_fills = 0

    async def last_seq(self, room_id: int) -> int:
        return self.newest

    async def last_seqs(self, room_ids: list[int]) -> dict[int, int]:
        return {room_id: self.newest for room_id in room_ids}

    async def events_between(self, room_id: int, first: int, last: int) -> list[RoomEvent]:
        self.fills.append((first, last))
        if self.fail_fills:
            self.fail_fills -= 1
            raise ConnectionError("database hiccup")
        return [self.stored[s] for s in range(first, last + 1) if s in self.stored]


def join_reply(seq: int) -> bytes:
    return json.dumps({"action": "join_room_chat", "status": "success", "data": seq}).encode()


async def joined(hub: Hub, conn: FakeConnection, history_seq: int = 0) -> None:
    await hub.begin_join(conn, ROOM)  # type: ignore[arg-type]
    hub.complete_join(conn, ROOM, join_reply(history_seq), history_seq)  # type: ignore[arg-type]


def make_hub(db: Database, gap_delay: float = 60.0) -> Hub:
    return Hub(
        db,
        gap_delay,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )


async def test_events_arriving_out_of_order_are_delivered_in_seq_order() -> None:
    hub = make_hub(Database())
    conn = FakeConnection(2)
    await joined(hub, conn)
    for seq in (3, 1, 4, 2, 5):
        hub.deliver(message(seq))
    assert conn.seqs == [1, 2, 3, 4, 5]


async def test_repeated_events_are_delivered_once() -> None:
    hub = make_hub(Database())
    conn = FakeConnection(2)
    await joined(hub, conn)
    for seq in (1, 1, 2, 1, 3, 2, 3):
        hub.deliver(message(seq))
    assert conn.seqs == [1, 2, 3]


async def test_events_already_in_the_database_when_the_room_opened_are_dropped() -> None:
    hub = make_hub(Database(last_seq=10))
    conn = FakeConnection(2)
    await joined(hub, conn, history_seq=10)
    for seq in (9, 10, 11):
        hub.deliver(message(seq))
    assert conn.seqs == [11]


async def test_a_gap_that_stays_open_is_filled_from_the_database() -> None:
    db = Database()
    db.stored = {n: message(n) for n in (1, 2, 3, 4)}
    hub = make_hub(db, gap_delay=0.01)
    conn = FakeConnection(2)
    await joined(hub, conn)
    hub.deliver(message(1))
    hub.deliver(message(4))  # 2 and 3 never come live
    assert conn.seqs == [1]
    await conn.wait_for_seq(4)
    assert conn.seqs == [1, 2, 3, 4]
    assert db.fills == [(2, 3)]
    # The late live copies change nothing.
    hub.deliver(message(2))
    hub.deliver(message(3))
    hub.deliver(message(5))
    assert conn.seqs == [1, 2, 3, 4, 5]


async def test_a_failed_gap_fill_is_retried() -> None:
    db = Database()
    db.stored = {n: message(n) for n in (1, 2, 3)}
    db.fail_fills = 1
    hub = make_hub(db, gap_delay=0.01)
    conn = FakeConnection(2)
    await joined(hub, conn)
    hub.deliver(message(1))
    hub.deliver(message(3))
    await conn.wait_for_seq(3)
    assert conn.seqs == [1, 2, 3]
    assert db.fills == [(2, 2), (2, 2)]


async def test_a_gap_closed_by_the_late_event_needs_no_database() -> None:
    db = Database()
    hub = make_hub(db, gap_delay=60)
    conn = FakeConnection(2)
    await joined(hub, conn)
    hub.deliver(message(1))
    hub.deliver(message(3))
    hub.deliver(message(2))
    assert conn.seqs == [1, 2, 3]
    assert db.fills == []


async def test_every_connection_of_a_room_sees_the_same_order() -> None:
    hub = make_hub(Database())
    conns = [FakeConnection(n) for n in (2, 3, 4)]
    for conn in conns:
        await joined(hub, conn)
    for seq in (2, 1, 3):
        hub.deliver(message(seq))
    assert [c.seqs for c in conns] == [[1, 2, 3]] * 3


async def test_a_join_gets_its_reply_then_only_what_its_history_lacked() -> None:
    hub = make_hub(Database(last_seq=4))
    early, joiner = FakeConnection(2), FakeConnection(3)
    await joined(hub, early, history_seq=4)

    await hub.begin_join(joiner, ROOM)  # type: ignore[arg-type]
    for seq in (5, 6, 7):  # arrive while the joiner reads its history
        hub.deliver(message(seq))
    assert joiner.frames == []
    hub.complete_join(joiner, ROOM, join_reply(6), history_seq=6)  # type: ignore[arg-type]
    hub.deliver(message(8))

    assert joiner.frames[0]["action"] == "join_room_chat"
    assert joiner.seqs == [7, 8]
    assert early.seqs == [5, 6, 7, 8]


async def test_events_before_the_room_knows_its_last_seq_wait_for_it() -> None:
    class EventsInFlight(Database):
        async def last_seq(self, room_id: int) -> int:
            # These arrive while the channel is still reading where the room stands.
            for seq in (6, 5, 4):
                hub.deliver(message(seq))
            return 4  # seq 4 was already stored: it is in the joiner's history

    hub = make_hub(EventsInFlight())
    conn = FakeConnection(2)
    await hub.begin_join(conn, ROOM)  # type: ignore[arg-type]
    hub.complete_join(conn, ROOM, join_reply(4), history_seq=4)  # type: ignore[arg-type]
    assert conn.seqs == [5, 6]


async def test_a_room_that_cannot_open_fails_the_join() -> None:
    class Broken(Database):
        async def last_seq(self, room_id: int) -> int:
            raise ConnectionError("database down")

    hub = make_hub(Broken())
    conn = FakeConnection(2)
    with pytest.raises(ConnectionError):
        await hub.begin_join(conn, ROOM)  # type: ignore[arg-type]
    assert ROOM not in conn.rooms
    assert hub.room_count == 0


async def test_typing_goes_to_the_others_not_the_typing_users_connections() -> None:
    hub = make_hub(Database())
    mine, my_other, theirs = FakeConnection(1), FakeConnection(1), FakeConnection(2)
    for conn in (mine, my_other, theirs):
        await joined(hub, conn)
    hub.signal(typing(sender=1))
    assert [f["action"] for f in theirs.frames[1:]] == ["typing_indicator"]
    assert mine.frames[1:] == [] and my_other.frames[1:] == []


async def test_after_leaving_nothing_more_arrives_and_empty_rooms_are_dropped() -> None:
    hub = make_hub(Database())
    stays, leaves = FakeConnection(2), FakeConnection(3)
    await joined(hub, stays)
    await joined(hub, leaves)
    hub.deliver(message(1))
    hub.leave(leaves, ROOM)  # type: ignore[arg-type]
    hub.deliver(message(2))
    assert leaves.seqs == [1] and stays.seqs == [1, 2]
    assert ROOM not in leaves.rooms
    hub.drop(stays)  # type: ignore[arg-type]
    assert hub.room_count == 0
    hub.deliver(message(3))
    assert stays.seqs == [1, 2]


async def test_rooms_are_sequenced_independently() -> None:
    hub = make_hub(Database())
    conn = FakeConnection(2)
    await joined(hub, conn)
    await hub.begin_join(conn, ROOM + 1)  # type: ignore[arg-type]
    hub.complete_join(conn, ROOM + 1, join_reply(0), 0)  # type: ignore[arg-type]
    hub.deliver(message(1, room_id=ROOM + 1))
    hub.deliver(message(2, room_id=ROOM))  # room ROOM still waits for its seq 1
    hub.deliver(message(1, room_id=ROOM))
    delivered = [
        (f["data"]["room_id"], f["data"]["seq"])
        for f in conn.frames
        if f["action"] == "new_room_chat_message"
    ]
    assert delivered == [(ROOM + 1, 1), (ROOM, 1), (ROOM, 2)]


async def test_a_message_in_the_join_history_that_reaches_the_hub_late_is_not_sent_again() -> None:
    db = Database(last_seq=3)
    hub = make_hub(db, gap_delay=0.05)
    conn = FakeConnection(2)
    await hub.begin_join(conn, ROOM)  # type: ignore[arg-type]
    # seq 4 is committed and read into the join's history, but its sender's task has
    # not handed it to the hub yet when the reply goes out.
    hub.complete_join(conn, ROOM, join_reply(4), history_seq=4)  # type: ignore[arg-type]
    hub.deliver(message(4))
    hub.deliver(message(5))
    assert conn.seqs == [5]


async def test_a_signal_to_a_user_reaches_each_of_their_connections_until_closed() -> None:
    hub = make_hub(Database())
    phone, laptop, someone_else = FakeConnection(1), FakeConnection(1), FakeConnection(2)
    for conn in (phone, laptop, someone_else):
        hub.attach(conn)  # type: ignore[arg-type]
    await joined(hub, laptop)  # joined to a room or not, it is theirs
    data = json.dumps({"room_id": ROOM, "last_read_seq": 3}).encode()
    read = RoomSignal.build(ROOM, 0, READ_UPDATED, data, "test", to_user=1)
    hub.signal(read)
    hub.drop(phone)  # type: ignore[arg-type]
    hub.signal(read)
    assert [f["action"] for f in phone.frames] == [READ_UPDATED]
    assert [f["action"] for f in laptop.frames[1:]] == [READ_UPDATED, READ_UPDATED]
    assert someone_else.frames == []


async def test_a_closed_connection_follows_no_workspace_any_more() -> None:
    hub = make_hub(Database())
    first, second = FakeConnection(1), FakeConnection(2)
    for conn in (first, second):
        hub.attach(conn)  # type: ignore[arg-type]
        hub.follow(conn, 4)  # type: ignore[arg-type]
    hub.follow(first, 5)  # type: ignore[arg-type]
    hub.unfollow(second, 4)  # type: ignore[arg-type]
    assert hub.followers(4) == {first} and hub.followed
    hub.drop(first)  # type: ignore[arg-type]
    assert hub.followers(4) == set() and hub.followers(5) == set()
    assert not hub.followed and first.workspaces == set()
