"""The outbox: a sent message's event is written in its transaction and published once
committed; a transaction that rolls back leaves nothing to publish."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from roomchat.domain.events import RoomEvent, RoomSignal, new_message_event
from roomchat.outbox import Outbox, OutboxLimits
from tests.unit.conftest import Domain, message_service


class RecordingBus:
    """A shared bus that keeps what it was given; ``up`` says whether it takes events."""

    shared = True

    def __init__(self) -> None:
        self.published: list[RoomEvent] = []
        self.arrived = asyncio.Event()
        self.up = asyncio.Event()
        self.up.set()

    async def start(self, on_event: Any, on_signal: Any) -> None:
        return None

    async def publish(self, events: Sequence[RoomEvent]) -> None:
        self.published.extend(events)
        self.arrived.set()

    def signal(self, signal: RoomSignal) -> None:
        return None

    def is_up(self) -> bool:
        return self.up.is_set()

    async def until_up(self) -> None:
        await self.up.wait()

    async def close(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"ok": True}


@pytest.fixture
async def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
async def outbox(domain: Domain, bus: RecordingBus) -> AsyncIterator[Outbox]:
    box = Outbox(domain.store.engine, bus, "unit-outbox", OutboxLimits(orphan_after_s=3600))
    box.start()
    yield box
    await box.close()


async def published(bus: RecordingBus, count: int) -> list[RoomEvent]:
    async def wait() -> None:
        while len(bus.published) < count:
            bus.arrived.clear()
            await bus.arrived.wait()

    await asyncio.wait_for(wait(), 5)
    return bus.published


async def test_a_sent_message_is_published_with_its_broadcast_then_its_row_deleted(
    domain: Domain, outbox: Outbox, bus: RecordingBus
) -> None:
    messages = message_service(domain, "unit-outbox", outbox)
    messages.start()
    try:
        owner = await domain.user("owner")
        workspace = await domain.workspaces.create(owner, "w")
        room = await domain.rooms.create(owner, workspace.id, "r", None)
        sent = await messages.send(owner, room.id, "hello", None, None)
        (event,) = await published(bus, 1)
        assert event == sent.event == new_message_event(sent.message, "unit-outbox")
        await outbox.close()  # deletes the rows the bus acknowledged
        assert await outbox.rows.count("unit-outbox") == 0
    finally:
        await messages.close()


async def test_rows_of_a_rolled_back_transaction_are_never_published(
    domain: Domain, outbox: Outbox, bus: RecordingBus
) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    room = await domain.rooms.create(owner, workspace.id, "r", None)
    doomed = RoomEvent.build(room.id, 1, "room_chat_updated", b"{}", "unit-outbox")
    kept = RoomEvent.build(room.id, 2, "room_chat_updated", b"{}", "unit-outbox")
    with pytest.raises(RuntimeError):
        async with domain.store.transaction() as tx:
            await outbox.add(tx, [doomed])
            raise RuntimeError("the change failed")
    async with domain.store.transaction() as tx:
        await outbox.add(tx, [kept])
    assert await published(bus, 1) == [kept]
