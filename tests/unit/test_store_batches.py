"""One commit for a batch spread over many rooms: each room still counts 1, 2, 3, ..."""

from __future__ import annotations

import asyncio

from roomchat.store.messages import Appended, NewMessage
from tests.unit.conftest import Domain


async def append(domain: Domain, batch: list[NewMessage]) -> list[Appended]:
    async with domain.store.transaction() as tx:
        return await domain.store.messages.append(tx, batch)


async def test_a_batch_over_several_rooms_numbers_each_room_on_its_own(domain: Domain) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    rooms = [await domain.rooms.create(owner, workspace.id, f"r{n}", None) for n in range(3)]
    # Interleaved rooms, in one append: r0 r1 r0 r2 r1 r0
    order = [rooms[i].id for i in (0, 1, 0, 2, 1, 0)]
    batch = [NewMessage(room_id, owner, f"m{n}", None, None) for n, room_id in enumerate(order)]
    stored = await append(domain, batch)
    seqs = [(a.message.room_id, a.message.seq) for a in stored]
    r0, r1, r2 = (room.id for room in rooms)
    assert seqs == [(r0, 1), (r1, 1), (r0, 2), (r2, 1), (r1, 2), (r0, 3)]
    # The next batch continues each room's count.
    again = await append(
        domain, [NewMessage(r2, owner, "x", None, None), NewMessage(r0, owner, "y", None, None)]
    )
    assert [(a.message.room_id, a.message.seq) for a in again] == [(r2, 2), (r0, 4)]


async def test_concurrent_batches_over_overlapping_rooms_neither_deadlock_nor_gap(
    domain: Domain,
) -> None:
    owner = await domain.user("owner")
    workspace = await domain.workspaces.create(owner, "w")
    rooms = [await domain.rooms.create(owner, workspace.id, f"r{n}", None) for n in range(4)]
    ids = [room.id for room in rooms]

    async def batch(order: list[int]) -> None:
        items = [NewMessage(room_id, owner, "m", None, None) for room_id in order]
        await append(domain, items)

    # Opposite room orders in parallel: the classic deadlock shape without id-ordered locks.
    await asyncio.gather(*(batch(ids if n % 2 else ids[::-1]) for n in range(8)))
    for room_id in ids:
        page = await domain.store.messages.latest(room_id, 50)
        assert [m.seq for m in page.messages] == list(range(1, 9))
