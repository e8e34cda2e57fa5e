"""The room event log: the one owner of the ``room_events`` table.

Every durable room event is appended here in the transaction that takes its seq
(store/seqs.py), whatever its kind: a new message today; edits, reactions and
membership changes call the same ``append``. A row keeps the event as it was
broadcast (its ``action`` and encoded ``data``), so gap fill and catch-up replay it
byte for byte, but for what an edit or a delete took back: the events that show an
earlier version of a message (its new message event and every change event, each of
which carries the message) are rewritten in the transaction of the edit or delete
(``message_events`` / ``rewrite``), so no later reader gets that version from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.events import RoomEvent, shown_message_id
from roomchat.domain.kinds import NEW_MESSAGE
from roomchat.domain.records import StoredEvent as StoredEvent
from roomchat.frames import data_of
from roomchat.store.database import reads_of
from roomchat.store.tables import room_events

if TYPE_CHECKING:
    from roomchat.store.transaction import Transaction

_COLUMNS = (room_events.c.room_id, room_events.c.seq, room_events.c.action, room_events.c.data)


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(row.room_id, row.seq, row.action, bytes(row.data))


class EventLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._reads = reads_of(engine)

    async def append(self, tx: Transaction, events: Sequence[RoomEvent]) -> None:
        """Write the events in the caller's transaction: one multi-row INSERT."""
        if not events:
            return
        now = datetime.now(UTC)
        # An executemany: one compiled statement whatever the batch's size, sent as
        # multi-row INSERTs by the driver (a .values([...]) statement would be compiled
        # anew for each batch size, on the broadcast core's time).
        await tx.conn.execute(
            insert(room_events),
            [
                {
                    "room_id": event.room_id,
                    "seq": event.seq,
                    "action": event.action,
                    "data": data_of(event),
                    "created_at": now,
                    "message_id": shown_message_id(event),
                }
                for event in events
            ],
        )

    async def between(self, room_id: int, first: int, last: int) -> list[StoredEvent]:
        """The room's events ``first``..``last``, in seq order."""
        query = (
            select(*_COLUMNS)
            .where(room_events.c.room_id == room_id, room_events.c.seq.between(first, last))
            .order_by(room_events.c.seq)
        )
        async with self._reads.connect() as conn:
            return [_stored(row) for row in (await conn.execute(query)).all()]

    async def after(self, room_id: int, after_seq: int, limit: int) -> list[StoredEvent]:
        """At most ``limit`` of the room's events after ``after_seq``, in seq order."""
        async with self._reads.connect() as conn:
            return await events_after(conn, room_id, after_seq, limit)


async def events_after(
    conn: AsyncConnection, room_id: int, after_seq: int, limit: int, up_to: int | None = None
) -> list[StoredEvent]:
    """At most ``limit`` of the room's events after ``after_seq`` (and at most ``up_to``),
    in seq order."""
    where = [room_events.c.room_id == room_id, room_events.c.seq > after_seq]
    if up_to is not None:
        where.append(room_events.c.seq <= up_to)
    query = select(*_COLUMNS).where(*where).order_by(room_events.c.seq).limit(limit)
    return [_stored(row) for row in (await conn.execute(query)).all()]


async def message_events(
    conn: AsyncConnection, room_id: int, message_seq: int, message_id: int
) -> list[StoredEvent]:
    """The stored events that show a message, in seq order: its ``new_room_chat_message``
    (at the message's own seq: the primary key) and its change events, edits, reactions
    and its delete (the partial index on ``message_id``). Read in the caller's
    transaction, which holds the room's seq."""
    new = select(*_COLUMNS).where(
        room_events.c.room_id == room_id,
        room_events.c.seq == message_seq,
        room_events.c.action == NEW_MESSAGE,
    )
    changes = select(*_COLUMNS).where(
        room_events.c.message_id == message_id, room_events.c.room_id == room_id
    )
    query = union_all(new, changes).order_by("seq")
    return [_stored(row) for row in (await conn.execute(query)).all()]


_REWRITE = (
    update(room_events)
    .where(room_events.c.room_id == bindparam("r_id"), room_events.c.seq == bindparam("r_seq"))
    .values(data=bindparam("r_data"))
)


async def rewrite(conn: AsyncConnection, room_id: int, data: dict[int, bytes]) -> None:
    """Replace the ``data`` of the room's events at these seqs (their seq, action and
    count stay: the log keeps no gap), in the caller's transaction."""
    if data:
        await conn.execute(
            _REWRITE, [{"r_id": room_id, "r_seq": seq, "r_data": d} for seq, d in data.items()]
        )
