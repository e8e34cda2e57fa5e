"""The hub and presence wired as wiring.py wires them: the hub tells presence of every
join and leave (a departure event and a closed socket included), presence speaks to
the room's joined connections through the channels they share."""

from __future__ import annotations

from typing import Any

from roomchat import jsoncodec
from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.kinds import MEMBER_LEFT
from roomchat.domain.room_changes import member_left_data
from roomchat.metrics import Metrics
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.realtime.presence import Presence, PresenceLimits
from roomchat.store.database import is_unavailable
from tests.unit.test_hub import ROOM, Database, FakeConnection, joined


class Others:
    """The bus: what this instance tells the other instances."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []

    def signal(self, signal: RoomSignal) -> None:
        self.told.append(jsoncodec.loads(signal.frame))


async def two_members(room_id: int) -> int:
    return 2


async def wired() -> tuple[Hub, Presence, Others]:
    others = Others()
    channels = Channels()
    presence = Presence(
        "A",
        two_members,
        PresenceLimits(grace_s=0.01, max_members=10),
        tell_others=others.signal,
        joined_here=channels.joined_here,
        pass_on=channels.pass_on,
    )
    hub = Hub(
        Database(),
        60.0,
        metrics=Metrics("unit"),
        channels=channels,
        attendance=presence,
        is_unavailable=is_unavailable,
    )
    await presence.recount(ROOM)  # as a join does first (realtime/handlers.py)
    return hub, presence, others


def presence_frames(conn: FakeConnection) -> list[tuple[int, bool]]:
    return [
        (f["data"]["user_id"], f["data"]["online"])
        for f in conn.frames
        if f["action"] == "room_presence"
    ]


async def told_offline(conn: FakeConnection, user_id: int) -> None:
    """Once the grace period is over, ``conn`` hears that ``user_id`` went offline."""
    await conn.wait_until(lambda: (user_id, False) in presence_frames(conn))


async def test_joins_and_leaves_reach_presence_and_its_broadcasts_reach_the_room() -> None:
    hub, presence, others = await wired()
    alice, bob, bob_again = FakeConnection(1), FakeConnection(2), FakeConnection(2)
    await joined(hub, alice)
    assert await presence.online(ROOM) == [1]
    await joined(hub, bob)
    await joined(hub, bob_again)  # a second tab: nothing new to say
    assert presence_frames(alice) == [(2, True)]
    assert [(t["kind"], t["user_ids"]) for t in others.told] == [("up", [1]), ("up", [2])]

    hub.leave(bob, ROOM)  # type: ignore[arg-type]
    hub.drop(bob_again)  # type: ignore[arg-type]  # the socket closed: bob's last
    await told_offline(alice, bob.user.id)
    assert presence_frames(alice) == [(2, True), (2, False)]
    assert await presence.online(ROOM) == [1]
    assert others.told[-1] == {"kind": "down", "user_ids": [2]}


async def test_a_member_sent_away_by_an_event_is_gone_from_presence() -> None:
    hub, presence, _ = await wired()
    alice, bob = FakeConnection(1), FakeConnection(2)
    await joined(hub, alice)
    await joined(hub, bob)
    data = jsoncodec.dumps(member_left_data(ROOM, 1, bob.user.id, alice.user.id))
    hub.deliver(RoomEvent.build(ROOM, 1, MEMBER_LEFT, data, "test"))
    assert ROOM not in bob.rooms
    await told_offline(alice, bob.user.id)
    assert await presence.online(ROOM) == [1]
