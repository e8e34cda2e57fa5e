"""A delivered room_member_left or room_chat_deleted sends connections away: after that
event, in seq order, whichever way it arrived (live, out of order, from the database)."""

from __future__ import annotations

import json

from roomchat import jsoncodec
from roomchat.domain.events import RoomEvent
from roomchat.domain.kinds import MEMBER_LEFT, ROOM_DELETED
from roomchat.domain.room_changes import member_left_data, room_deleted_data
from roomchat.metrics import Metrics
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.store.database import is_unavailable
from tests.unit.test_hub import ROOM, Database, FakeConnection, join_reply, message


def left(seq: int, user_id: int) -> RoomEvent:
    data = jsoncodec.dumps(member_left_data(ROOM, seq, user_id, 1))
    return RoomEvent.build(ROOM, seq, MEMBER_LEFT, data, "test")


def deleted(seq: int) -> RoomEvent:
    return RoomEvent.build(
        ROOM, seq, ROOM_DELETED, jsoncodec.dumps(room_deleted_data(ROOM, seq)), "test"
    )


async def joined(hub: Hub, *conns: FakeConnection) -> None:
    for conn in conns:
        await hub.begin_join(conn, ROOM)  # type: ignore[arg-type]
        hub.complete_join(conn, ROOM, join_reply(0), 0)  # type: ignore[arg-type]


def actions(conn: FakeConnection) -> list[tuple[str, int]]:
    return [(f["action"], f["data"]["seq"]) for f in conn.frames if f["action"] != "join_room_chat"]


async def test_a_member_left_out_of_order_sends_away_after_the_events_before_it() -> None:
    hub = Hub(
        Database(),
        5.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )
    alice, bob, bob_again = FakeConnection(1), FakeConnection(2), FakeConnection(2)
    await joined(hub, alice, bob, bob_again)
    hub.deliver(left(2, bob.user.id))  # early: held until seq 1
    hub.deliver(message(3))
    assert actions(bob) == []
    hub.deliver(message(1))
    hub.deliver(message(4))
    for conn in (bob, bob_again):
        assert actions(conn) == [("new_room_chat_message", 1), (MEMBER_LEFT, 2)]
        assert ROOM not in conn.rooms
    assert [seq for _, seq in actions(alice)] == [1, 2, 3, 4]


async def test_a_deleted_room_sends_everyone_away() -> None:
    hub = Hub(
        Database(),
        5.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )
    alice, bob = FakeConnection(1), FakeConnection(2)
    await joined(hub, alice, bob)
    hub.deliver(deleted(1))
    hub.deliver(message(2))
    for conn in (alice, bob):
        assert actions(conn) == [(ROOM_DELETED, 1)]
        assert conn.rooms == set()
    assert hub.room_count == 0
    assert json.loads(deleted(1).frame)["data"] == {"room_id": ROOM, "seq": 1}
