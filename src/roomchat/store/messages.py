"""Message rows: appending with per-room seq (and the outbox), and reading history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import Message, MessagePage, User
from roomchat.store.database import reads_of
from roomchat.store.rows import message_from
from roomchat.store.tables import messages, outbox, rooms, users


@dataclass(frozen=True, slots=True)
class NewMessage:
    room_id: int
    user: User
    message_text: str
    message_content: str | None
    client_msg_id: str | None

    @property
    def idempotency_key(self) -> tuple[int, int, str] | None:
        if self.client_msg_id is None:
            return None
        return (self.room_id, self.user.id, self.client_msg_id)


@dataclass(frozen=True, slots=True)
class Appended:
    message: Message
    created: bool  # False: an earlier message with the same client_msg_id
    data: bytes = b""  # the message encoded once, for new messages
    outbox_id: int | None = None


Encoder = Callable[[Message], bytes]


_MESSAGE_COLUMNS = (
    *messages.c,
    users.c.id.label("u_id"),
    users.c.username.label("u_username"),
    users.c.display_name.label("u_display_name"),
    users.c.avatar_url.label("u_avatar_url"),
)


def _with_users() -> Select[Any]:
    return select(*_MESSAGE_COLUMNS).join(users, users.c.id == messages.c.user_id)


class MessageRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def append(
        self, batch: Sequence[NewMessage], encode: Encoder, outbox_origin: str | None = None
    ) -> list[Appended]:
        """Store a batch in one transaction (one commit for many sends).

        Each room's seq counter is bumped once per batch, so seqs stay gapless: a
        rolled-back transaction gives its numbers back. Each new message's broadcast
        is encoded here once (``encode``); with ``outbox_origin`` it is also written to the outbox
        in the same transaction, so no committed message can miss the bus.
        """
        try:
            async with self._engine.begin() as conn:
                return await _append(conn, batch, encode, outbox_origin)
        except IntegrityError:
            # A concurrent send with the same client_msg_id (another connection or
            # instance) committed first. Redo one by one so only that send is a replay.
            if len(batch) > 1:
                results: list[Appended] = []
                for item in batch:
                    results.extend(await self.append([item], encode, outbox_origin))
                return results
            existing = await self._by_keys([k for k in [batch[0].idempotency_key] if k])
            if not existing:
                raise
            return [Appended(next(iter(existing.values())), created=False)]

    async def _by_keys(
        self, keys: list[tuple[int, int, str]]
    ) -> dict[tuple[int, int, str], Message]:
        async with self._reads.connect() as conn:
            return await _existing(conn, keys)

    async def latest(self, room_id: int, limit: int) -> MessagePage:
        query = _with_users().where(messages.c.room_id == room_id)
        return await self._page(query.order_by(messages.c.seq.desc()), limit, newest_first=True)

    async def before(self, room_id: int, before_seq: int, limit: int) -> MessagePage:
        query = _with_users().where(messages.c.room_id == room_id, messages.c.seq < before_seq)
        return await self._page(query.order_by(messages.c.seq.desc()), limit, newest_first=True)

    async def after(self, room_id: int, after_seq: int, limit: int) -> MessagePage:
        query = _with_users().where(messages.c.room_id == room_id, messages.c.seq > after_seq)
        return await self._page(query.order_by(messages.c.seq), limit, newest_first=False)

    async def seq_range(self, room_id: int, first: int, last: int) -> list[Message]:
        query = (
            _with_users()
            .where(messages.c.room_id == room_id, messages.c.seq.between(first, last))
            .order_by(messages.c.seq)
        )
        async with self._reads.connect() as conn:
            return [message_from(row) for row in (await conn.execute(query)).all()]

    async def _page(self, query: Select[Any], limit: int, newest_first: bool) -> MessagePage:
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query.limit(limit + 1))).all()
        found = [message_from(row) for row in rows[:limit]]
        if newest_first:
            found.reverse()
        return MessagePage(messages=found, has_more=len(rows) > limit)


async def _append(
    conn: AsyncConnection,
    batch: Sequence[NewMessage],
    encode: Encoder,
    outbox_origin: str | None,
) -> list[Appended]:
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
        seqs = await _reserve_seqs(conn, [batch[i].room_id for i in fresh])
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "room_id": batch[i].room_id,
                "seq": seqs[n],
                "user_id": batch[i].user.id,
                "message_text": batch[i].message_text,
                "message_content": batch[i].message_content,
                "client_msg_id": batch[i].client_msg_id,
                "created_at": now,
            }
            for n, i in enumerate(fresh)
        ]
        returned = await conn.execute(
            insert(messages).returning(messages.c.id, sort_by_parameter_order=True), rows
        )
        created: list[Appended] = []
        for i, row, message_id in zip(fresh, rows, returned.scalars().all(), strict=True):
            item = batch[i]
            message = Message(
                id=message_id,
                room_id=item.room_id,
                seq=row["seq"],
                user=item.user,
                message_text=item.message_text,
                message_content=item.message_content,
                client_msg_id=item.client_msg_id,
                created_at=now,
            )
            created.append(Appended(message, created=True, data=encode(message)))
        if outbox_origin is not None:
            outbox_ids = await conn.execute(
                insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True),
                [
                    {
                        "room_id": appended.message.room_id,
                        "seq": appended.message.seq,
                        "origin": outbox_origin,
                        "payload": appended.data,
                        "created_at": now,
                    }
                    for appended in created
                ],
            )
            created = [
                Appended(a.message, True, a.data, outbox_id)
                for a, outbox_id in zip(created, outbox_ids.scalars().all(), strict=True)
            ]
        for i, appended in zip(fresh, created, strict=True):
            results[i] = appended

    for index, item in enumerate(batch):
        if results[index] is None:
            original = results[first_in_batch[item.idempotency_key]]  # type: ignore[index]
            assert original is not None
            results[index] = Appended(original.message, created=False)
    return [r for r in results if r is not None]


async def _reserve_seqs(conn: AsyncConnection, room_ids: list[int]) -> list[int]:
    """Bump each room's counter once and hand out its numbers in batch order.

    One UPDATE serves every room of the batch (a batch spread over many rooms must
    not cost a round trip per room). With several rooms, their rows are first
    locked in id order, so concurrent batches of other instances cannot deadlock.
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
        .where(rooms.c.id.in_(ids))
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


async def _existing(
    conn: AsyncConnection, keys: list[tuple[int, int, str]]
) -> dict[tuple[int, int, str], Message]:
    if not keys:
        return {}
    query = _with_users().where(
        tuple_(messages.c.room_id, messages.c.user_id, messages.c.client_msg_id).in_(keys)
    )
    found = {}
    for row in (await conn.execute(query)).all():
        message = message_from(row)
        found[(message.room_id, message.user.id, row.client_msg_id)] = message
    return found
