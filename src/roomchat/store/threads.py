"""Threads: a root's summary, who follows each thread, how far they read it, and what
that leaves unread.

A reply is a message like any other (store/messages.py stores it, on the room's seq);
its transaction also calls ``add_reply`` here, which moves its root's summary and makes
the thread's people follow it. What is unread in a thread is counted from the replies
themselves (after the follower's ``last_read_seq``, by someone else, not deleted), so
the count is exact by construction, as a room's is (store/read_state.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import THREAD_PARTICIPANTS_SHOWN, MessagePage
from roomchat.domain.records import FollowedThread, RootState, ThreadPosition
from roomchat.store.database import reads_of
from roomchat.store.messages import page_of, with_reactions, with_users
from roomchat.store.rows import ids_from, ids_of, message_from
from roomchat.store.tables import messages, room_users, rooms, thread_follows

_replies = messages.alias("replies")


def unread_replies(root_id: Any, user_id: Any, after: Any) -> Any:
    """COUNT of the thread's replies unread for ``user_id`` after seq ``after``."""
    return (
        select(func.count())
        .select_from(_replies)
        .where(
            _replies.c.thread_root_id == root_id,
            _replies.c.seq > after,
            _replies.c.user_id != user_id,
            _replies.c.deleted_at.is_(None),
        )
        .scalar_subquery()
    )


def thread_unread(room_id: Any, user_id: Any) -> Any:
    """COUNT of the unread replies of every thread of the room ``user_id`` follows."""
    return (
        select(func.count())
        .select_from(
            thread_follows.join(_replies, _replies.c.thread_root_id == thread_follows.c.root_id)
        )
        .where(
            thread_follows.c.room_id == room_id,
            thread_follows.c.user_id == user_id,
            thread_follows.c.following.is_(True),
            _replies.c.seq > thread_follows.c.last_read_seq,
            _replies.c.user_id != user_id,
            _replies.c.deleted_at.is_(None),
        )
        .scalar_subquery()
    )


async def root_state(conn: AsyncConnection, room_id: int, root_id: int) -> RootState:
    """What ``root_id`` is as a root in the room (another room's message: MISSING)."""
    query = select(messages.c.thread_root_id, messages.c.deleted_at).where(
        messages.c.id == root_id, messages.c.room_id == room_id
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return RootState.MISSING
    if row.thread_root_id is not None:
        return RootState.REPLY
    return RootState.DELETED if row.deleted_at is not None else RootState.ROOT


async def add_reply(
    conn: AsyncConnection,
    root_id: int,
    room_id: int,
    replier_id: int,
    reply_seq: int,
    now: datetime,
    mentioned: Iterable[int] = (),
) -> None:
    """A reply stored in the caller's transaction (which holds the room's seq, so no
    other reply of the room moves the root meanwhile): the root's summary moves on;
    the replier follows the thread (again) and has read it up to their reply; the
    root's author and whoever the reply mentions follow it unless they unfollowed it."""
    root = (
        await conn.execute(
            select(messages.c.user_id, messages.c.thread_participants).where(
                messages.c.id == root_id
            )
        )
    ).one()
    participants = list(ids_from(root.thread_participants))
    if replier_id not in participants and len(participants) < THREAD_PARTICIPANTS_SHOWN:
        participants.append(replier_id)
    await conn.execute(
        update(messages)
        .where(messages.c.id == root_id)
        .values(
            reply_count=messages.c.reply_count + 1,
            last_reply_at=now,
            thread_participants=ids_of(participants),
        )
    )
    drawn_in = {root.user_id, *mentioned} - {replier_id}
    await follow_unless_unfollowed(conn, room_id, root_id, drawn_in)
    insert = _insert(conn).values(
        root_id=root_id,
        user_id=replier_id,
        room_id=room_id,
        following=True,
        last_read_seq=reply_seq,
    )
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=[thread_follows.c.root_id, thread_follows.c.user_id],
            set_={
                "following": True,
                "last_read_seq": func.max(thread_follows.c.last_read_seq, reply_seq)
                if conn.dialect.name == "sqlite"
                else func.greatest(thread_follows.c.last_read_seq, reply_seq),
            },
        )
    )


async def follow_unless_unfollowed(
    conn: AsyncConnection, room_id: int, root_id: int, user_ids: Iterable[int]
) -> None:
    """Make them follow the thread, but those who have a row already (following it, or
    having unfollowed it: that choice stays)."""
    rows = [
        {"root_id": root_id, "user_id": user_id, "room_id": room_id, "following": True}
        for user_id in sorted(set(user_ids))
    ]
    if rows:
        await conn.execute(_insert(conn).on_conflict_do_nothing(), rows)


def _insert(conn: AsyncConnection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(thread_follows)


class ThreadRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def root_state(self, room_id: int, root_id: int) -> RootState:
        async with self._reads.connect() as conn:
            return await root_state(conn, room_id, root_id)

    async def page(self, room_id: int, root_id: int, after_seq: int, limit: int) -> MessagePage:
        """The thread (its root, then its replies) after ``after_seq``, oldest first."""
        query = with_users().where(
            messages.c.room_id == room_id,
            or_(messages.c.id == root_id, messages.c.thread_root_id == root_id),
            messages.c.seq > after_seq,
        )
        async with self._reads.connect() as conn:
            return await page_of(conn, query.order_by(messages.c.seq), limit)

    async def set_following(
        self, room_id: int, root_id: int, user_id: int, following: bool
    ) -> ThreadPosition | None:
        """Follow or unfollow (kept as a choice); None when the root is no longer one."""
        async with self._engine.begin() as conn:
            if await root_state(conn, room_id, root_id) is not RootState.ROOT:
                return None
            insert = _insert(conn).values(
                root_id=root_id, user_id=user_id, room_id=room_id, following=following
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[thread_follows.c.root_id, thread_follows.c.user_id],
                    set_={"following": following},
                )
            )
            return await _position(conn, room_id, root_id, user_id)

    async def mark_read(
        self, room_id: int, root_id: int, user_id: int, seq: int
    ) -> ThreadPosition | None:
        """Read the thread up to ``seq``, clamped to the room's seq, never backwards (a
        thread one does not follow keeps its position too, unfollowed). None when the
        room or the root is gone."""
        async with self._engine.begin() as conn:
            room_seq = (
                await conn.execute(
                    select(rooms.c.last_seq).where(
                        rooms.c.id == room_id, rooms.c.deleted_at.is_(None)
                    )
                )
            ).scalar_one_or_none()
            if room_seq is None or await root_state(conn, room_id, root_id) in (
                RootState.MISSING,
                RootState.REPLY,
            ):
                return None
            target = max(0, min(seq, int(room_seq)))
            # The root's author follows it from the start (before any reply made them
            # a row); anyone else reading a thread does not follow it by reading.
            author = (
                await conn.execute(select(messages.c.user_id).where(messages.c.id == root_id))
            ).scalar_one()
            insert = _insert(conn).values(
                root_id=root_id,
                user_id=user_id,
                room_id=room_id,
                following=author == user_id,
                last_read_seq=target,
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[thread_follows.c.root_id, thread_follows.c.user_id],
                    set_={"last_read_seq": target},
                    where=thread_follows.c.last_read_seq < target,
                )
            )
            return await _position(conn, room_id, root_id, user_id)

    async def followed(
        self, user_id: int, workspace_id: int, limit: int
    ) -> tuple[list[FollowedThread], bool]:
        """The threads the user follows in the workspace's rooms they are a member of,
        newest activity first (the last reply, or the root for a thread without one),
        at most ``limit``; and whether more follow."""
        activity = func.coalesce(messages.c.last_reply_at, messages.c.created_at)
        query = (
            with_users()
            .add_columns(
                thread_follows.c.last_read_seq.label("t_last_read_seq"),
                unread_replies(messages.c.id, user_id, thread_follows.c.last_read_seq).label(
                    "t_unread"
                ),
            )
            .join(thread_follows, thread_follows.c.root_id == messages.c.id)
            .join(rooms, rooms.c.id == thread_follows.c.room_id)
            .join(
                room_users,
                and_(
                    room_users.c.room_id == thread_follows.c.room_id,
                    room_users.c.user_id == user_id,
                ),
            )
            .where(
                thread_follows.c.user_id == user_id,
                thread_follows.c.following.is_(True),
                rooms.c.workspace_id == workspace_id,
                rooms.c.deleted_at.is_(None),
            )
            .order_by(activity.desc(), messages.c.id.desc())
            .limit(limit + 1)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
            roots = await with_reactions(conn, [message_from(row) for row in rows[:limit]])
        found = [
            FollowedThread(root, int(row.t_last_read_seq), int(row.t_unread))
            for root, row in zip(roots, rows, strict=False)
        ]
        return found, len(rows) > limit


async def _position(
    conn: AsyncConnection, room_id: int, root_id: int, user_id: int
) -> ThreadPosition:
    row = (
        await conn.execute(
            select(
                thread_follows.c.following,
                thread_follows.c.last_read_seq,
                unread_replies(root_id, user_id, thread_follows.c.last_read_seq).label("unread"),
            ).where(thread_follows.c.root_id == root_id, thread_follows.c.user_id == user_id)
        )
    ).one()
    return ThreadPosition(
        room_id, root_id, bool(row.following), int(row.last_read_seq), int(row.unread)
    )
