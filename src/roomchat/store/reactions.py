"""Reaction rows: the one owner of the ``message_reactions`` table.

A row is one user's one reaction to one message. A message object's ``reactions``
summary is read from these rows, grouped by reaction, in the order each reaction was
first given; each lists the first ``USER_IDS_SHOWN`` users and counts them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roomchat.domain.models import Reaction
from roomchat.store.tables import message_reactions

USER_IDS_SHOWN = 20  # per reaction in a message object; its count is exact

_r = message_reactions.c


async def summaries(
    conn: AsyncConnection, message_ids: Sequence[int]
) -> dict[int, tuple[Reaction, ...]]:
    """Each message's reactions (messages with none are left out), in one query that
    reads at most ``USER_IDS_SHOWN`` rows per reaction."""
    if not message_ids:
        return {}
    group = (_r.message_id, _r.reaction)
    ranked = (
        select(
            _r.message_id,
            _r.reaction,
            _r.user_id,
            func.row_number()
            .over(partition_by=group, order_by=(_r.created_at, _r.user_id))
            .label("rank"),
            func.count().over(partition_by=group).label("total"),
            func.min(_r.created_at).over(partition_by=group).label("first_at"),
        )
        .where(_r.message_id.in_(message_ids))
        .subquery()
    )
    query = (
        select(ranked)
        .where(ranked.c.rank <= USER_IDS_SHOWN)
        .order_by(ranked.c.message_id, ranked.c.first_at, ranked.c.reaction, ranked.c.rank)
    )
    grouped: dict[int, dict[str, tuple[int, list[int]]]] = {}
    for row in (await conn.execute(query)).all():
        per_message = grouped.setdefault(row.message_id, {})
        _, user_ids = per_message.setdefault(row.reaction, (row.total, []))
        user_ids.append(row.user_id)
    return {
        message_id: tuple(
            Reaction(reaction, total, tuple(user_ids))
            for reaction, (total, user_ids) in per_message.items()
        )
        for message_id, per_message in grouped.items()
    }


async def has(conn: AsyncConnection, message_id: int, user_id: int, reaction: str) -> bool:
    query = select(_r.message_id).where(
        and_(_r.message_id == message_id, _r.user_id == user_id, _r.reaction == reaction)
    )
    return (await conn.execute(query)).first() is not None


async def is_given(conn: AsyncConnection, message_id: int, reaction: str) -> bool:
    """Whether anyone gave ``reaction`` to the message."""
    query = (
        select(_r.message_id).where(_r.message_id == message_id, _r.reaction == reaction).limit(1)
    )
    return (await conn.execute(query)).first() is not None


async def distinct_count(conn: AsyncConnection, message_id: int) -> int:
    query = select(func.count(func.distinct(_r.reaction))).where(_r.message_id == message_id)
    return int((await conn.execute(query)).scalar_one())


async def add(
    conn: AsyncConnection, message_id: int, user_id: int, reaction: str, now: datetime
) -> None:
    await conn.execute(
        insert(message_reactions).values(
            message_id=message_id, user_id=user_id, reaction=reaction, created_at=now
        )
    )


async def remove(conn: AsyncConnection, message_id: int, user_id: int, reaction: str) -> bool:
    """Remove the user's reaction; False when they had not given it."""
    result = await conn.execute(
        delete(message_reactions).where(
            _r.message_id == message_id, _r.user_id == user_id, _r.reaction == reaction
        )
    )
    return bool(result.rowcount)


async def remove_all(conn: AsyncConnection, message_id: int) -> None:
    """Every reaction to the message (it was deleted: a tombstone has none)."""
    await conn.execute(delete(message_reactions).where(_r.message_id == message_id))
