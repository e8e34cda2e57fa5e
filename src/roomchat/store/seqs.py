"""A room's seq counter: every durable room event takes its number here, in the
transaction that stores it, so a room's seqs are gapless (a rolled-back transaction
gives its numbers back)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roomchat.store.tables import rooms


async def reserve_seqs(conn: AsyncConnection, room_ids: list[int]) -> list[int]:
    """Bump each room's counter once and hand out its numbers in ``room_ids`` order.

    One UPDATE serves every room of a batch (a batch spread over many rooms must
    not cost a round trip per room). With several rooms, their rows are first
    locked in id order, so concurrent batches of other instances cannot deadlock.
    Raises LookupError for a room that no longer exists or was deleted (a send or a
    change that loses the race with the room's deletion takes no seq after it).
    """
    counts = Counter(room_ids)
    ids = sorted(counts)
    if len(ids) == 1:
        bump: Any = counts[ids[0]]
    else:
        await conn.execute(
            select(rooms.c.id).where(rooms.c.id.in_(ids)).order_by(rooms.c.id).with_for_update()
        )
        bump = case(counts, value=rooms.c.id)
    result = await conn.execute(
        update(rooms)
        .where(rooms.c.id.in_(ids), rooms.c.deleted_at.is_(None))
        .values(last_seq=rooms.c.last_seq + bump)
        .returning(rooms.c.id, rooms.c.last_seq)
    )
    next_seq = {row.id: row.last_seq - counts[row.id] + 1 for row in result}
    if len(next_seq) != len(ids):
        raise LookupError(f"rooms {set(ids) - set(next_seq)} no longer exist")
    seqs = []
    for room_id in room_ids:
        seqs.append(next_seq[room_id])
        next_seq[room_id] += 1
    return seqs
