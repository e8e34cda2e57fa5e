"""A batch of new messages stored on PostgreSQL in one statement: one round trip.

The general path (store/recorder.py) takes a round trip per step:
BEGIN, the client_msg_id lookup, the seq bump, the messages, the event log, the
outbox, the senders' read positions, COMMIT. Under load every one of them waits for
the event loop that is also writing broadcasts, and the batch's latency bounds the
send rate (docs/benchmarks.md, "One round trip per commit"). Here the same writes
are one statement of data-modifying CTEs, which PostgreSQL runs atomically without
an explicit transaction:

1. ``existing``: sends whose client_msg_id is already stored (replays: no seq).
2. ``locked`` / ``bumped``: each room's counter bumped once, its rows locked in id
   order first (two instances' batches cannot deadlock). If a room of the batch was
   deleted, no room is bumped and nothing is stored: the caller redoes the batch one
   by one, so only that send fails.
3. ``stored``: the messages; ``framed``: each message's encoded data, built from the
   bytes the caller encoded around the two numbers only PostgreSQL knows here (the
   id and the seq), so the event log, the outbox and the live broadcast carry the
   same bytes (``frames.MessageTemplate``; the outbox row's frame is spliced around
   the data with ``frames.broadcast_head`` and ``frames.BROADCAST_END``).
4. ``logged`` (the room event log), ``read_moved`` (sending marks the room read up to
   the message sent) and, with a bus, ``queued`` (the outbox rows).

What each table is and how it is read stays with its owner (store/event_log.py,
roomchat/outbox, store/read_state.py); this module only writes their rows together.
A concurrent send with the same client_msg_id raises ClientMsgIdTaken, as the
general path does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat import frames
from roomchat.domain.kinds import NEW_MESSAGE
from roomchat.domain.records import Send as Send
from roomchat.domain.records import Written as Written
from roomchat.store.database import reads_of
from roomchat.store.messages import ClientMsgIdTaken
from roomchat.store.rows import content_columns

_WRITES = """
WITH input AS (
    SELECT * FROM unnest(
        $1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bool[],
        $7::text[], $8::bytea[], $9::bytea[]
    ) AS t(
        ord, room_id, user_id, message_text, message_content, content_is_json, client_msg_id,
        mid, tail
    )
),
existing AS (
    SELECT i.ord, m.id FROM input i
    JOIN messages m ON m.room_id = i.room_id AND m.user_id = i.user_id
        AND m.client_msg_id = i.client_msg_id
),
fresh AS (
    SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.ord = i.ord)
),
counts AS (SELECT room_id, count(*) AS n FROM fresh GROUP BY room_id),
locked AS MATERIALIZED (
    SELECT r.id FROM rooms r
    WHERE r.id IN (SELECT room_id FROM counts) AND r.deleted_at IS NULL
    ORDER BY r.id FOR UPDATE
),
bumped AS (
    UPDATE rooms r SET last_seq = r.last_seq + c.n
    FROM counts c
    WHERE r.id = c.room_id AND r.id IN (SELECT id FROM locked)
        AND (SELECT count(*) FROM locked) = (SELECT count(*) FROM counts)
    RETURNING r.id, r.last_seq - c.n AS base
),
numbered AS (
    SELECT f.*, b.base + row_number() OVER (PARTITION BY f.room_id ORDER BY f.ord) AS seq
    FROM fresh f JOIN bumped b ON b.id = f.room_id
),
stored AS (
    INSERT INTO messages (
        room_id, seq, user_id, message_text, message_content, content_is_json, client_msg_id,
        created_at
    )
    SELECT room_id, seq, user_id, message_text, message_content, content_is_json,
        client_msg_id, $10
    FROM numbered ORDER BY ord
    RETURNING id, room_id, seq
),
framed AS (
    SELECT n.ord, s.id, s.room_id, s.seq, n.user_id,
        $11::bytea || convert_to(s.id::text, 'UTF8') || n.mid
            || convert_to(s.seq::text, 'UTF8') || n.tail AS data
    FROM stored s JOIN numbered n ON n.room_id = s.room_id AND n.seq = s.seq
),
logged AS (
    INSERT INTO room_events (room_id, seq, action, data, created_at)
    SELECT room_id, seq, $12, data, $10 FROM framed
),
read_moved AS (
    UPDATE room_users ru SET last_read_seq = s.seq
    FROM (SELECT room_id, user_id, max(seq) AS seq FROM framed GROUP BY room_id, user_id) s
    WHERE ru.room_id = s.room_id AND ru.user_id = s.user_id AND ru.last_read_seq < s.seq
)
"""

_WITHOUT_OUTBOX = (
    _WRITES
    + """
SELECT ord, id, seq, NULL::bigint AS outbox_id FROM framed
UNION ALL SELECT ord, id, NULL, NULL FROM existing
"""
)

_WITH_OUTBOX = (
    _WRITES
    + """
, queued AS (
    INSERT INTO outbox (room_id, seq, origin, payload, created_at)
    SELECT room_id, seq, $13, $14::bytea || data || $15::bytea, $10 FROM framed
    RETURNING id, room_id, seq
)
SELECT f.ord, f.id, f.seq, q.id AS outbox_id
FROM framed f JOIN queued q ON q.room_id = f.room_id AND q.seq = f.seq
UNION ALL SELECT ord, id, NULL, NULL FROM existing
"""
)


class RoomGone(LookupError):
    """A room of the batch no longer exists: nothing of the batch was stored."""


class BatchAppender:
    """Runs the statement on a pooled connection in autocommit (the statement is its
    own transaction)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = reads_of(engine)
        self._frame_head = frames.broadcast_head(NEW_MESSAGE)

    async def write(
        self, sends: Sequence[Send], now: datetime, origin: str | None
    ) -> list[Written]:
        """Store ``sends`` (no two with the same client_msg_id); ``origin``: write their
        outbox rows too. One ``Written`` per send, in order."""
        contents = [content_columns(s.message_content) for s in sends]
        args: list[Any] = [
            list(range(len(sends))),
            [s.room_id for s in sends],
            [s.user_id for s in sends],
            [s.message_text for s in sends],
            [stored for stored, _ in contents],
            [is_json for _, is_json in contents],
            [s.client_msg_id for s in sends],
            [s.template.mid for s in sends],
            [s.template.tail for s in sends],
            now,
            frames.MESSAGE_ID_KEY,
            NEW_MESSAGE,
        ]
        sql = _WITHOUT_OUTBOX
        if origin is not None:
            sql = _WITH_OUTBOX
            args += [origin, self._frame_head, frames.BROADCAST_END]
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            try:
                rows = await driver.fetch(sql, *args)
            except asyncpg.UniqueViolationError as exc:
                raise ClientMsgIdTaken(str(exc)) from exc
        found: dict[int, Written] = {
            row["ord"]: Written(row["id"], row["seq"], row["outbox_id"]) for row in rows
        }
        if len(found) != len(sends):
            raise RoomGone("a room of the batch no longer exists")
        return [found[i] for i in range(len(sends))]
