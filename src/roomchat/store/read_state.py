"""Read state: how far each member has read each room, and what that leaves unread.

A member's ``last_read_seq`` is a position on the room's seq. What is unread is
counted from the messages themselves (after that seq, by someone else, not deleted),
so a count is exact by construction: a deleted message stops counting, one's own
messages never count, and nothing is kept that could drift.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import Message, User
from roomchat.domain.records import ReadPosition as ReadPosition
from roomchat.store.database import reads_of
from roomchat.store.mentions import unread_mentions
from roomchat.store.messages import with_reactions, with_users
from roomchat.store.rows import USER_COLUMNS, message_from, user_from
from roomchat.store.tables import messages, room_users, rooms, users
from roomchat.store.threads import thread_unread


def _unread(room_id: Any, user_id: Any, after: Any) -> Any:
    """COUNT of the top-level messages that are unread for ``user_id`` after seq
    ``after`` (a thread's replies count apart: ``threads.thread_unread``)."""
    return (
        select(func.count())
        .select_from(messages)
        .where(
            messages.c.room_id == room_id,
            messages.c.seq > after,
            messages.c.user_id != user_id,
            messages.c.deleted_at.is_(None),
            messages.c.thread_root_id.is_(None),
        )
        .scalar_subquery()
    )


def _counts(room_id: Any, user_id: Any) -> tuple[Any, ...]:
    """A member's counts in a room, as columns of a query over ``room_users``."""
    return (
        room_users.c.last_read_seq,
        _unread(room_id, user_id, room_users.c.last_read_seq).label("unread"),
        thread_unread(room_id, user_id).label("thread_unread"),
        unread_mentions(room_id, user_id, room_users.c.last_read_seq).label("mentions"),
    )


def _positions(user_id: int) -> Any:
    return select(room_users.c.room_id, *_counts(room_users.c.room_id, user_id)).where(
        room_users.c.user_id == user_id
    )


def _position(row: Any, room_id: int | None = None) -> ReadPosition:
    return ReadPosition(
        row.room_id if room_id is None else room_id,
        int(row.last_read_seq),
        int(row.unread),
        int(row.thread_unread),
        int(row.mentions),
    )


class ReadStateRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def move(
        self, room_id: int, user_id: int, seq: int, *, backwards: bool
    ) -> ReadPosition | None:
        """Set the member's position to ``seq`` clamped to the room's seq: only forwards
        (mark read), or to exactly there (mark unread, ``backwards``). None: not a member
        (or the room is gone)."""
        async with self._engine.begin() as conn:
            room_seq = (
                await conn.execute(
                    select(rooms.c.last_seq).where(
                        rooms.c.id == room_id, rooms.c.deleted_at.is_(None)
                    )
                )
            ).scalar_one_or_none()
            if room_seq is None:
                return None
            target = max(0, min(seq, int(room_seq)))
            member = and_(room_users.c.room_id == room_id, room_users.c.user_id == user_id)
            moved = update(room_users).where(member).values(last_read_seq=target)
            if not backwards:
                moved = moved.where(room_users.c.last_read_seq < target)
            await conn.execute(moved)
            row = (await conn.execute(select(*_counts(room_id, user_id)).where(member))).first()
        if row is None:
            return None
        return _position(row, room_id)

    async def positions(self, user_id: int, room_ids: Sequence[int]) -> dict[int, ReadPosition]:
        """The user's position in each of the rooms they are a member of: one query."""
        if not room_ids:
            return {}
        query = _positions(user_id).where(room_users.c.room_id.in_(list(room_ids)))
        async with self._reads.connect() as conn:
            found = [_position(row) for row in (await conn.execute(query)).all()]
        return {position.room_id: position for position in found}

    async def of_members(self, room_id: int, user_ids: Collection[int]) -> dict[int, ReadPosition]:
        """Each of these users' position in the room, for those who are members: one query."""
        if not user_ids:
            return {}
        query = select(
            room_users.c.user_id,
            room_users.c.room_id,
            *_counts(room_id, room_users.c.user_id),
        ).where(room_users.c.room_id == room_id, room_users.c.user_id.in_(list(user_ids)))
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.user_id: _position(row) for row in rows}

    async def workspace_of(self, room_id: int) -> int | None:
        query = select(rooms.c.workspace_id).where(rooms.c.id == room_id)
        async with self._reads.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def in_workspace(self, user_id: int, workspace_id: int) -> list[ReadPosition]:
        """The user's position in every live room of the workspace they are a member of."""
        query = (
            _positions(user_id)
            .join(rooms, rooms.c.id == room_users.c.room_id)
            .where(rooms.c.workspace_id == workspace_id, rooms.c.deleted_at.is_(None))
            .order_by(room_users.c.room_id)
        )
        async with self._reads.connect() as conn:
            return [_position(row) for row in (await conn.execute(query)).all()]

    async def last_messages(self, room_ids: Sequence[int]) -> dict[int, Message]:
        """Each room's newest top-level message that is not deleted (rooms with none
        left out)."""
        if not room_ids:
            return {}
        newest = (
            select(messages.c.room_id, func.max(messages.c.seq).label("seq"))
            .where(
                messages.c.room_id.in_(list(room_ids)),
                messages.c.deleted_at.is_(None),
                messages.c.thread_root_id.is_(None),
            )
            .group_by(messages.c.room_id)
        )
        query = with_users().where(tuple_(messages.c.room_id, messages.c.seq).in_(newest))
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
            found = await with_reactions(conn, [message_from(row) for row in rows])
        return {message.room_id: message for message in found}

    async def readers(self, room_id: int, message_id: int) -> list[User] | None:
        """The members other than its author who read the message and share receipts;
        None when the room has no such message (or it was deleted)."""
        async with self._reads.connect() as conn:
            place = await message_place(conn, room_id, message_id)
            if place is None:
                return None
            seq, author_id = place
            query = (
                select(*USER_COLUMNS)
                .join(room_users, room_users.c.user_id == users.c.id)
                .where(
                    room_users.c.room_id == room_id,
                    room_users.c.last_read_seq >= seq,
                    room_users.c.user_id != author_id,
                    users.c.share_read_receipts.is_(True),
                )
                .order_by(users.c.id)
            )
            return [user_from(row) for row in (await conn.execute(query)).all()]

    async def shares_receipts(self, user_id: int) -> bool:
        query = select(users.c.share_read_receipts).where(users.c.id == user_id)
        async with self._reads.connect() as conn:
            return bool((await conn.execute(query)).scalar_one_or_none())

    async def set_share_receipts(self, user_id: int, share: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(users).where(users.c.id == user_id).values(share_read_receipts=share)
            )


async def advance_senders(conn: AsyncConnection, sent: Sequence[tuple[int, int, int]]) -> None:
    """Sending marks the room read up to the message sent: (room_id, user_id, seq) each,
    in the caller's transaction (a group commit's: one statement for the batch)."""
    if not sent:
        return
    newest: dict[tuple[int, int], int] = {}
    for room_id, user_id, seq in sent:
        newest[(room_id, user_id)] = max(seq, newest.get((room_id, user_id), 0))
    await conn.execute(
        update(room_users)
        .where(
            room_users.c.room_id == bindparam("r"),
            room_users.c.user_id == bindparam("u"),
            room_users.c.last_read_seq < bindparam("s"),
        )
        .values(last_read_seq=bindparam("s")),
        [{"r": r, "u": u, "s": s} for (r, u), s in newest.items()],
    )


async def message_place(conn: AsyncConnection, room_id: int, message_id: int) -> Any:
    """(seq, user_id) of a message of the room that is not deleted, or None."""
    query = select(messages.c.seq, messages.c.user_id).where(
        messages.c.id == message_id,
        messages.c.room_id == room_id,
        messages.c.deleted_at.is_(None),
    )
    return (await conn.execute(query)).first()
