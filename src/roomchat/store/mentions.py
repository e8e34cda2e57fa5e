"""Mention rows: one per member a message mentions, what mention counts are counted from.

A message's mentions are written by the transaction that stores it (``add``) or edits
it (``replace``), and withdrawn by the one that deletes it (store/messages.py,
``tombstone``). A row is never deleted: an edit that takes a mention back makes it
inactive, and one that makes it again active again, so that ``replace`` can tell a
member mentioned for the first time (announced with ``room_chat_mention``) from one
mentioned before (not announced twice).

The count of a member's unread mentions in a room (``unread_mentions``) is the active
rows after their read position in the room; a mention in a thread's reply also stops
counting once they read the thread past it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roomchat.domain.models import Message
from roomchat.domain.records import Mentioned
from roomchat.store.rows import ids_of
from roomchat.store.tables import message_mentions, messages, thread_follows


def unread_mentions(room_id: Any, user_id: Any, after: Any) -> Any:
    """COUNT of the member's active mentions in the room after seq ``after`` (a reply's
    only while it is also after their read position in its thread)."""
    read_in_thread = func.coalesce(thread_follows.c.last_read_seq, 0)
    return (
        select(func.count())
        .select_from(
            message_mentions.outerjoin(
                thread_follows,
                and_(
                    thread_follows.c.root_id == message_mentions.c.thread_root_id,
                    thread_follows.c.user_id == message_mentions.c.user_id,
                ),
            )
        )
        .where(
            message_mentions.c.user_id == user_id,
            message_mentions.c.room_id == room_id,
            message_mentions.c.active.is_(True),
            message_mentions.c.seq > after,
            or_(
                message_mentions.c.thread_root_id.is_(None),
                message_mentions.c.seq > read_in_thread,
            ),
        )
        .scalar_subquery()
    )


async def add(conn: AsyncConnection, message: Message, members: Iterable[int]) -> None:
    """A new message's mentions, in the caller's transaction."""
    rows = [_row(message, user_id) for user_id in sorted(set(members))]
    if rows:
        await conn.execute(insert(message_mentions), rows)


async def replace(conn: AsyncConnection, message: Message, mentioned: Mentioned) -> list[int]:
    """An edited message's mentions (the message's columns and its rows), in the
    caller's transaction; the members mentioned for the first time, to announce."""
    await conn.execute(
        update(messages)
        .where(messages.c.id == message.id)
        .values(mentions=ids_of(mentioned.user_ids) or None, mentions_room=mentioned.room)
    )
    had = {
        row.user_id: bool(row.active)
        for row in await conn.execute(
            select(message_mentions.c.user_id, message_mentions.c.active).where(
                message_mentions.c.message_id == message.id
            )
        )
    }
    now = set(mentioned.members)
    fresh = sorted(now - set(had))
    if fresh:
        await conn.execute(insert(message_mentions), [_row(message, u) for u in fresh])
    back = [u for u in now if had.get(u) is False]
    gone = [u for u, active in had.items() if active and u not in now]
    for user_ids, active in ((back, True), (gone, False)):
        if user_ids:
            await conn.execute(
                update(message_mentions)
                .where(
                    message_mentions.c.message_id == message.id,
                    message_mentions.c.user_id.in_(user_ids),
                )
                .values(active=active)
            )
    return fresh


async def withdraw(conn: AsyncConnection, message_id: int) -> None:
    """A deleted message mentions nobody any more (its rows stay, inactive)."""
    await conn.execute(
        update(message_mentions)
        .where(message_mentions.c.message_id == message_id, message_mentions.c.active.is_(True))
        .values(active=False)
    )


def _row(message: Message, user_id: int) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "user_id": user_id,
        "room_id": message.room_id,
        "seq": message.seq,
        "thread_root_id": message.thread_root_id,
        "active": True,
    }
