"""Message rows: appending with per-room seq, and reading history."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import Content, Message, MessagePage
from roomchat.domain.records import Appended as Appended
from roomchat.domain.records import ChangeTarget as ChangeTarget
from roomchat.domain.records import ClientMsgIdTaken as ClientMsgIdTaken
from roomchat.domain.records import NewMessage as NewMessage
from roomchat.store import attachments as attachment_rows
from roomchat.store import mentions as mention_rows
from roomchat.store import reactions
from roomchat.store.database import reads_of
from roomchat.store.rows import content_columns, ids_of, message_from
from roomchat.store.seqs import reserve_seqs
from roomchat.store.tables import messages, rooms, users, workspace_members

if TYPE_CHECKING:
    from roomchat.store.transaction import Transaction

_MESSAGE_COLUMNS = (
    *messages.c,
    users.c.id.label("u_id"),
    users.c.username.label("u_username"),
    users.c.display_name.label("u_display_name"),
    users.c.avatar_url.label("u_avatar_url"),
)


# A room's history (join replies, GET .../messages, the last message) shows top-level
# messages; a thread's replies are paged apart (store/threads.py).
_TOP_LEVEL = messages.c.thread_root_id.is_(None)


def with_users() -> Select[Any]:
    """Messages joined with their authors (the columns message_from reads)."""
    return select(*_MESSAGE_COLUMNS).join(users, users.c.id == messages.c.user_id)


class MessageRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def append(self, tx: Transaction, batch: Sequence[NewMessage]) -> list[Appended]:
        """Store a batch in the caller's transaction (one commit for many sends).

        Each room's seq counter is bumped once per batch (store/seqs.py). A send whose
        client_msg_id an earlier message has is not stored again (``created`` False);
        one that a concurrent transaction stored first raises ClientMsgIdTaken.
        """
        try:
            return await _append(tx.conn, batch)
        except IntegrityError as exc:
            raise ClientMsgIdTaken(str(exc)) from exc

    async def by_client_msg_id(self, item: NewMessage) -> Message | None:
        """The stored message that ``item``'s client_msg_id names, if any."""
        key = item.idempotency_key
        if key is None:
            return None
        return (await self._by_keys([key])).get(key)

    async def by_client_msg_ids(
        self, items: Sequence[NewMessage]
    ) -> dict[tuple[int, int, str], Message]:
        """The stored messages the items' client_msg_ids name, by idempotency key, in
        one query."""
        keys = [k for k in {item.idempotency_key for item in items} if k is not None]
        return await self._by_keys(keys) if keys else {}

    async def _by_keys(
        self, keys: list[tuple[int, int, str]]
    ) -> dict[tuple[int, int, str], Message]:
        async with self._reads.connect() as conn:
            return await _existing(conn, keys)

    async def latest(self, room_id: int, limit: int) -> MessagePage:
        async with self._reads.connect() as conn:
            return await latest(conn, room_id, limit)

    async def before(self, room_id: int, before_seq: int, limit: int) -> MessagePage:
        async with self._reads.connect() as conn:
            return await before(conn, room_id, before_seq, limit)

    async def after(self, room_id: int, after_seq: int, limit: int) -> MessagePage:
        query = with_users().where(
            messages.c.room_id == room_id, messages.c.seq > after_seq, _TOP_LEVEL
        )
        async with self._reads.connect() as conn:
            return await _page(conn, query.order_by(messages.c.seq), limit, newest_first=False)

    async def seq_range(self, room_id: int, first: int, last: int) -> list[Message]:
        query = (
            with_users()
            .where(messages.c.room_id == room_id, messages.c.seq.between(first, last))
            .order_by(messages.c.seq)
        )
        async with self._reads.connect() as conn:
            found = [message_from(row) for row in (await conn.execute(query)).all()]
            return await with_reactions(conn, found)


async def latest(conn: AsyncConnection, room_id: int, limit: int) -> MessagePage:
    """The room's newest ``limit`` top-level messages as they are now, oldest first."""
    query = with_users().where(messages.c.room_id == room_id, _TOP_LEVEL)
    return await _page(conn, query.order_by(messages.c.seq.desc()), limit, newest_first=True)


async def before(conn: AsyncConnection, room_id: int, before_seq: int, limit: int) -> MessagePage:
    """The ``limit`` top-level messages before ``before_seq``, oldest first."""
    query = with_users().where(
        messages.c.room_id == room_id, messages.c.seq < before_seq, _TOP_LEVEL
    )
    return await _page(conn, query.order_by(messages.c.seq.desc()), limit, newest_first=True)


async def page_of(conn: AsyncConnection, query: Select[Any], limit: int) -> MessagePage:
    """At most ``limit`` of what ``query`` (ordered oldest first) finds, with reactions."""
    return await _page(conn, query, limit, newest_first=False)


async def _page(
    conn: AsyncConnection, query: Select[Any], limit: int, newest_first: bool
) -> MessagePage:
    rows = (await conn.execute(query.limit(limit + 1))).all()
    found = await with_reactions(conn, [message_from(row) for row in rows[:limit]])
    if newest_first:
        found.reverse()
    return MessagePage(messages=found, has_more=len(rows) > limit)


async def target(conn: AsyncConnection, message_id: int, actor_id: int) -> ChangeTarget | None:
    """The message (reactions left out) with its room's creator and ``actor_id``'s role."""
    query = (
        with_users()
        .add_columns(rooms.c.created_by.label("r_created_by"), workspace_members.c.role)
        .join(rooms, rooms.c.id == messages.c.room_id)
        .outerjoin(
            workspace_members,
            (workspace_members.c.workspace_id == rooms.c.workspace_id)
            & (workspace_members.c.user_id == actor_id),
        )
        .where(messages.c.id == message_id)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return ChangeTarget(message_from(row), row.r_created_by, row.role)


async def current(conn: AsyncConnection, message_id: int) -> Message:
    """The message as it is now, reactions included (in the caller's transaction)."""
    row = (await conn.execute(with_users().where(messages.c.id == message_id))).one()
    return (await with_reactions(conn, [message_from(row)]))[0]


async def with_reactions(conn: AsyncConnection, found: list[Message]) -> list[Message]:
    """The messages with their reactions summary and their attachments (a tombstone has
    neither)."""
    summary = await reactions.summaries(conn, [m.id for m in found if m.deleted_at is None])
    found = [
        dataclasses.replace(m, reactions=summary[m.id]) if m.id in summary else m for m in found
    ]
    return await attachment_rows.with_attachments(conn, found)


async def edit(
    conn: AsyncConnection, message_id: int, text: str, content: Content, now: datetime
) -> None:
    stored, is_json = content_columns(content)
    await conn.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(message_text=text, message_content=stored, content_is_json=is_json, edited_at=now)
    )


async def tombstone(conn: AsyncConnection, message_id: int, now: datetime) -> None:
    """Delete the message's text, content, reactions and mentions; its id and seq stay
    (and a top-level message's thread: its replies are not deleted with it)."""
    await reactions.remove_all(conn, message_id)
    await mention_rows.withdraw(conn, message_id)
    await conn.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(
            message_text=None,
            message_content=None,
            content_is_json=False,
            deleted_at=now,
            mentions=None,
            mentions_room=False,
        )
    )


async def _append(conn: AsyncConnection, batch: Sequence[NewMessage]) -> list[Appended]:
    keys = [key for item in batch if (key := item.idempotency_key)]
    existing = await _existing(conn, keys) if keys else {}
    results: list[Appended | None] = [None] * len(batch)
    fresh: list[int] = []
    first_in_batch: dict[tuple[int, int, str], int] = {}
    for index, item in enumerate(batch):
        key = item.idempotency_key
        if key is not None and key in existing:
            results[index] = Appended(existing[key], created=False)
        elif key is not None and key in first_in_batch:
            continue  # resolved below, once the first one has its row
        else:
            if key is not None:
                first_in_batch[key] = index
            fresh.append(index)

    if fresh:
        # A reply takes two seqs: its own, then its room_chat_thread_updated's.
        wanted = [
            room_id
            for i in fresh
            for room_id in (batch[i].room_id,) * (1 if batch[i].thread_root_id is None else 2)
        ]
        taken = iter(await reserve_seqs(conn, wanted))
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        thread_seqs: list[int | None] = []
        for i in fresh:
            stored, is_json = content_columns(batch[i].message_content)
            rows.append(
                {
                    "room_id": batch[i].room_id,
                    "seq": next(taken),
                    "user_id": batch[i].user.id,
                    "message_text": batch[i].message_text,
                    "message_content": stored,
                    "content_is_json": is_json,
                    "client_msg_id": batch[i].client_msg_id,
                    "created_at": now,
                    "thread_root_id": batch[i].thread_root_id,
                    "mentions": ids_of(batch[i].mentioned.user_ids) or None,
                    "mentions_room": batch[i].mentioned.room,
                }
            )
            thread_seqs.append(None if batch[i].thread_root_id is None else next(taken))
        returned = await conn.execute(
            insert(messages).returning(messages.c.id, sort_by_parameter_order=True), rows
        )
        for i, row, message_id, thread_seq in zip(
            fresh, rows, returned.scalars().all(), thread_seqs, strict=True
        ):
            item = batch[i]
            files = (
                await attachment_rows.claim(
                    conn, message_id, item.room_id, item.user.id, item.attachment_ids
                )
                if item.attachment_ids
                else ()
            )
            message = Message(
                id=message_id,
                room_id=item.room_id,
                seq=row["seq"],
                user=item.user,
                message_text=item.message_text,
                message_content=item.message_content,
                client_msg_id=item.client_msg_id,
                created_at=now,
                thread_root_id=item.thread_root_id,
                mentions=item.mentioned.user_ids,
                mentions_room=item.mentioned.room,
                attachments=files,
            )
            results[i] = Appended(message, created=True, thread_seq=thread_seq)

    for index, item in enumerate(batch):
        if results[index] is None:
            original = results[first_in_batch[item.idempotency_key]]  # type: ignore[index]
            assert original is not None
            results[index] = Appended(original.message, created=False)
    return [r for r in results if r is not None]


async def _existing(
    conn: AsyncConnection, keys: list[tuple[int, int, str]]
) -> dict[tuple[int, int, str], Message]:
    if not keys:
        return {}
    query = with_users().where(
        tuple_(messages.c.room_id, messages.c.user_id, messages.c.client_msg_id).in_(keys)
    )
    found = {}
    rows = (await conn.execute(query)).all()
    stored = await attachment_rows.with_attachments(conn, [message_from(row) for row in rows])
    for row, message in zip(rows, stored, strict=True):
        found[(message.room_id, message.user.id, row.client_msg_id)] = message
    return found
