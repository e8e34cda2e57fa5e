"""Presence's cluster view: what other instances say expires unless repeated, a
snapshot replaces what an instance said of a room, and the grace period hides a
quick return. The broadcasts themselves are tested over real servers."""

from __future__ import annotations

import asyncio
from typing import Any

from roomchat import jsoncodec
from roomchat.domain.events import RoomSignal
from roomchat.realtime.channels import Channels
from roomchat.realtime.presence import Presence, PresenceLimits

ROOM = 3


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Bus:
    """The fanout's signal(): records what this instance tells the others."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    def signal(self, signal: RoomSignal) -> None:
        assert signal.internal
        self.told.append({"room": signal.room_id, **jsoncodec.loads(signal.frame)})
        self.changed.set()


async def two_members(room_id: int) -> int:
    return 2


def said(instance: str, kind: str, users: list[int]) -> RoomSignal:
    data = jsoncodec.dumps({"kind": kind, "user_ids": users})
    return RoomSignal(ROOM, 0, instance, data, internal=True)


def presence(clock: Clock, bus: Bus, grace_s: float = 5.0) -> Presence:
    limits = PresenceLimits(grace_s=grace_s, ttl_s=15.0, refresh_s=5.0, max_members=10)
    rooms = Channels()  # nobody joined here: presence broadcasts nothing locally
    return Presence(
        "A",
        two_members,
        limits,
        tell_others=bus.signal,
        joined_here=rooms.joined_here,
        pass_on=rooms.pass_on,
        clock=clock,
    )


async def test_what_another_instance_said_expires_unless_repeated() -> None:
    clock, bus = Clock(), Bus()
    view = presence(clock, bus)
    view.heard(said("B", "up", [7]))
    assert await view.online(ROOM) == [7]
    clock.now += 10
    view.heard(said("B", "snapshot", [7]))  # repeated: counts for another 15 s
    clock.now += 10
    view.refresh()
    assert await view.online(ROOM) == [7]
    clock.now += 6  # B fell silent (killed): gone after its last word's TTL
    view.refresh()
    assert await view.online(ROOM) == []


async def test_a_snapshot_replaces_what_that_instance_said_of_the_room() -> None:
    clock, bus = Clock(), Bus()
    view = presence(clock, bus)
    view.heard(said("B", "up", [7]))
    view.heard(said("C", "up", [7]))
    view.heard(said("B", "up", [8]))
    view.heard(said("B", "snapshot", [8]))  # 7 left B (its "down" was lost)
    assert await view.online(ROOM) == [7, 8]  # 7 is still on C
    view.heard(said("C", "down", [7]))
    assert await view.online(ROOM) == [8]
    view.heard(said("B", "nonsense", "x"))  # type: ignore[arg-type]
    view.heard(RoomSignal(ROOM, 0, "B", b"not json", internal=True))
    assert await view.online(ROOM) == [8]


async def test_a_return_within_the_grace_period_says_nothing() -> None:
    clock, bus = Clock(), Bus()
    view = presence(clock, bus, grace_s=0.05)
    view.joined(ROOM, 5)
    view.left(ROOM, 5)
    view.joined(ROOM, 5)  # back at once
    assert [t["kind"] for t in bus.told] == ["up"]
    bus.changed.clear()
    view.left(ROOM, 5)
    async with asyncio.timeout(5):  # the grace period's timer fires
        await bus.changed.wait()
    assert [t["kind"] for t in bus.told] == ["up", "down"]
    assert await view.online(ROOM) == []


async def test_a_user_is_here_until_their_last_connection_leaves() -> None:
    clock, bus = Clock(), Bus()
    view = presence(clock, bus, grace_s=0.05)
    view.joined(ROOM, 5)
    view.joined(ROOM, 5)  # a second tab
    view.left(ROOM, 5)
    view.refresh()
    assert [(t["kind"], t["user_ids"]) for t in bus.told] == [("up", [5]), ("snapshot", [5])]
    bus.changed.clear()
    view.left(ROOM, 5)  # the last one
    async with asyncio.timeout(5):  # after the grace period
        await bus.changed.wait()
    assert bus.told[-1]["kind"] == "down"
    view.refresh()
    assert bus.told[-1]["kind"] == "down"  # no snapshot of a room nobody here is in
