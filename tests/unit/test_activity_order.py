"""room_activity per room only goes forward: an event heard late (stored on another
instance before the newest one here, carried by the bus after it) or heard again (the
bus repeating itself, a partition read again) never sends an older seq to a sidebar."""

from __future__ import annotations

import asyncio
from typing import Any

from roomchat.domain.events import RoomEvent
from roomchat.metrics import Metrics
from roomchat.realtime.activity import Activity
from roomchat.realtime.channels import Channels
from roomchat.realtime.hub import Hub
from roomchat.store.database import is_unavailable
from tests.unit.conftest import Domain
from tests.unit.test_hub import Database, FakeConnection


class Sidebar(FakeConnection):
    """A connection following a workspace: the room_activity frames it was sent."""

    @property
    def activity(self) -> list[dict[str, Any]]:
        return [f["data"] for f in self.frames if f["action"] == "room_activity"]

    async def wait_for_activity(self, seq: int, timeout: float = 5.0) -> None:
        async def wait() -> None:
            while seq not in [a["seq"] for a in self.activity]:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(wait(), timeout)


async def settled(activity: Activity) -> None:
    """Until the rooms' flushes started so far are done (what they send is sent)."""
    await asyncio.wait_for(asyncio.gather(*activity._tasks), 5)


async def four_messages(domain: Domain) -> tuple[Sidebar, int, list[RoomEvent]]:
    """A room with four messages, their events, and its creator's sidebar on the workspace."""
    alice = await domain.user("alice")
    workspace = await domain.workspaces.create(alice, "w")
    room = await domain.rooms.create(alice, workspace.id, "r", None)
    events = []
    for n in range(4):
        sent = await domain.messages.send(alice, room.id, f"m{n}", None, None)
        assert sent.event is not None
        events.append(sent.event)
    sidebar = Sidebar(alice.id)
    return sidebar, workspace.id, events


async def test_late_and_replayed_events_never_send_an_older_seq(domain: Domain) -> None:
    sidebar, workspace_id, (first, second, third, fourth) = await four_messages(domain)
    hub = Hub(
        Database(),
        60.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )
    hub.follow(sidebar, workspace_id)  # type: ignore[arg-type]
    activity = Activity(hub, domain.store.reads, lambda message: message, interval_s=0)
    try:
        activity.heard(third)  # stored here: heard at once
        await sidebar.wait_for_activity(third.seq)
        activity.heard(second)  # stored on another instance first, heard over the bus after
        await settled(activity)
        for replayed in (first, second, third):  # the bus read a partition again
            activity.heard(replayed)
        await settled(activity)
        activity.heard(fourth)
        await sidebar.wait_for_activity(fourth.seq)
        assert [a["seq"] for a in sidebar.activity] == [third.seq, fourth.seq]
        assert sidebar.activity[-1]["last_message"]["message_text"] == "m3"
    finally:
        await activity.close()


async def test_a_burst_heard_out_of_order_is_sent_in_seq_order(domain: Domain) -> None:
    """Coalesced or not, what a sidebar is sent for a room only goes up."""
    sidebar, workspace_id, events = await four_messages(domain)
    hub = Hub(
        Database(),
        60.0,
        metrics=Metrics("unit"),
        channels=Channels(),
        attendance=None,
        is_unavailable=is_unavailable,
    )
    hub.follow(sidebar, workspace_id)  # type: ignore[arg-type]
    activity = Activity(hub, domain.store.reads, lambda message: message, interval_s=0)
    try:
        for event in (events[1], events[0], events[3], events[2], events[1]):
            activity.heard(event)
            await settled(activity)
        seqs = [a["seq"] for a in sidebar.activity]
        assert seqs == [events[1].seq, events[3].seq]
    finally:
        await activity.close()
