"""A group commit's batch of sends, on both backends (on PostgreSQL the one-statement
path of store/append_pg.py, on SQLite the general one): the same answers either way."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from roomchat.domain.events import RoomEvent, message_data
from roomchat.domain.messages import MessageService, SendResult
from roomchat.domain.models import Message, User
from roomchat.errors import ChatError, Code
from roomchat.frames import MessageTemplate
from roomchat.outbox import Outbox, OutboxLimits
from roomchat.store.messages import NewMessage
from roomchat.store.tables import outbox, room_users, rooms
from roomchat.store.transaction import Transaction
from tests.unit.conftest import Domain, message_service


async def store_batch(domain: Domain, batch: list[NewMessage]) -> list[SendResult]:
    return await domain.messages._store_batch(batch)


async def last_seq(domain: Domain, room_id: int) -> int:
    async with domain.store.engine.connect() as conn:
        return int(await conn.scalar(select(rooms.c.last_seq).where(rooms.c.id == room_id)))


async def three_rooms(domain: Domain) -> tuple[User, list[int]]:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    made = [await domain.rooms.create(owner, workspace.id, f"r{n}", None) for n in range(3)]
    return owner, [room.id for room in made]


async def test_a_batch_numbers_each_room_and_logs_the_bytes_it_broadcasts(domain: Domain) -> None:
    owner, (r0, r1, _) = await three_rooms(domain)
    text = 'quotes " and \\ and ünïcödé 😀 and "id":1, inside'
    batch = [
        NewMessage(r0, owner, text, '{"k": [1, 2]}', "a"),
        NewMessage(r1, owner, "second", None, None),
        NewMessage(r0, owner, "third", None, "b"),
    ]
    results = await store_batch(domain, batch)
    postgres = domain.store.engine.dialect.name == "postgresql"
    assert domain.recorder.batches_in_parallel == postgres  # the path under test
    assert [(r.message.room_id, r.message.seq) for r in results] == [(r0, 1), (r1, 1), (r0, 2)]
    assert all(r.event is not None for r in results)
    for result in results:
        logged = await domain.store.events.between(result.message.room_id, 1, 10)
        (event,) = [e for e in logged if e.seq == result.message.seq]
        assert event.data == result.data
        # What is broadcast is what a reader of the database rebuilds, byte for byte.
        (stored,) = await domain.store.messages.seq_range(
            result.message.room_id, result.message.seq, result.message.seq
        )
        assert message_data(stored) == result.data
        assert stored.message_text == result.message.message_text
    # Sending marked the room read up to the message sent.
    async with domain.store.engine.connect() as conn:
        read = await conn.scalar(
            select(room_users.c.last_read_seq).where(
                room_users.c.room_id == r0, room_users.c.user_id == owner.id
            )
        )
    assert read == 2


async def test_a_repeated_client_msg_id_is_a_replay_in_the_batch_and_after(domain: Domain) -> None:
    owner, (r0, _, _) = await three_rooms(domain)
    first = NewMessage(r0, owner, "hello", None, "same")
    results = await store_batch(domain, [first, NewMessage(r0, owner, "x", None, None), first])
    assert [r.message.seq for r in results] == [1, 2, 1]
    assert results[0].event is not None and results[2].event is None
    assert results[2].message.id == results[0].message.id
    again = await store_batch(domain, [first, NewMessage(r0, owner, "y", None, None)])
    assert again[0].event is None and again[0].message.id == results[0].message.id
    assert again[0].data == results[0].data
    assert again[1].message.seq == 3
    assert await last_seq(domain, r0) == 3


async def test_a_deleted_room_fails_only_its_own_send(domain: Domain) -> None:
    owner, (r0, r1, gone) = await three_rooms(domain)
    await domain.rooms.delete(owner, gone)
    before = await last_seq(domain, gone)
    items = [NewMessage(r, owner, f"to {r}", None, None) for r in (r0, gone, r1)]
    # The writer redoes a failed batch one by one: the same as three sends at once.
    outcomes = await _writer_outcomes(domain.messages, items)
    assert isinstance(outcomes[1], ChatError) and outcomes[1].code == Code.NOT_FOUND
    assert [o.message.seq for o in (outcomes[0], outcomes[2]) if isinstance(o, SendResult)] == [
        1,
        1,
    ]
    assert await last_seq(domain, gone) == before
    assert await domain.store.events.after(gone, before, 10) == []


async def _writer_outcomes(
    messages: MessageService, items: Sequence[NewMessage]
) -> list[SendResult | BaseException]:
    import asyncio

    writes = [messages._writer.write(item) for item in items]
    return await asyncio.gather(*writes, return_exceptions=True)


class SeenOutbox:
    """The real outbox, remembering what it was told committed."""

    def __init__(self, real: Outbox) -> None:
        self.real = real
        self.committed_rows: list[tuple[int, RoomEvent]] = []

    async def add(self, tx: Transaction, events: Sequence[RoomEvent]) -> None:
        await self.real.add(tx, events)
        self.committed_rows += [(0, event) for event in events]

    def committed(self, rows: Sequence[tuple[int, RoomEvent]]) -> None:
        self.committed_rows += list(rows)


async def test_outbox_rows_carry_the_broadcast_frames(domain: Domain) -> None:
    owner, (r0, r1, _) = await three_rooms(domain)

    class NoBus:
        def is_up(self) -> bool:
            return False

    seen = SeenOutbox(
        Outbox(domain.store.engine, NoBus(), "unit-outbox", OutboxLimits())  # type: ignore[arg-type]
    )
    service = message_service(domain, "unit-outbox", seen)
    results = await service._store_batch(
        [NewMessage(r0, owner, "a", None, None), NewMessage(r1, owner, "b", None, None)]
    )
    async with domain.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.id, outbox.c.room_id, outbox.c.seq, outbox.c.payload)
                .where(outbox.c.origin == "unit-outbox")
                .order_by(outbox.c.id)
            )
        ).all()
    frames = {(r.room_id, r.seq): bytes(r.payload) for r in rows}
    for result in results:
        assert result.event is not None
        key = (result.message.room_id, result.message.seq)
        assert frames[key] == result.event.frame
    assert {event.seq for _, event in seen.committed_rows} == {1}
    assert len(seen.committed_rows) == 2


async def test_two_instances_batches_over_the_same_rooms_leave_no_gap(domain: Domain) -> None:
    import asyncio

    owner, ids = await three_rooms(domain)
    other = message_service(domain, "unit-other")
    other.start()
    try:
        sends = [
            service.send(owner, room_id, f"m{n}", None, f"{name}{n}-{room_id}")
            for n in range(20)
            for name, service, order in (("a", domain.messages, ids), ("b", other, ids[::-1]))
            for room_id in order
        ]
        results = await asyncio.gather(*sends)
    finally:
        await other.close()
    assert len({(r.message.room_id, r.message.seq) for r in results}) == len(results)
    for room_id in ids:
        page = await domain.store.messages.latest(room_id, 100)
        assert [m.seq for m in page.messages] == list(range(1, 41))


def test_a_template_rebuilds_the_encoded_message() -> None:
    from datetime import UTC, datetime

    user = User(7, "ann", 'Ann "A"', None)
    draft = Message(0, 42, 0, user, 'text "id":0,', None, "c", datetime.now(UTC))
    template = MessageTemplate.of(message_data(draft), draft.room_id)
    real = Message(1234, 42, 56, user, 'text "id":0,', None, "c", draft.created_at)
    assert template.data(1234, 56) == message_data(real)
    with pytest.raises(ValueError):
        MessageTemplate.of(message_data(real), real.room_id)
