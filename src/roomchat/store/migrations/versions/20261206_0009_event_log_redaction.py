"""room_events.message_id: edits and deletes take earlier versions out of the event log

From this revision an edit or a delete rewrites the message's stored events (its
``new_room_chat_message`` and its ``room_chat_message_edited``) to show it as it is
now. The log finds a message's edit events by ``message_id`` (a partial index: only
edit events have one); a new message's event is at the message's own seq.

Upgrading fills ``message_id`` in for the edit events already stored, and scrubs the
log of every message edited or deleted before it, the way the live code now does
(a frozen copy of ``roomchat.domain.events.shown_as_now`` as of this revision, not an
import: the message object may change later, this must still write what this
revision's code writes). Downgrading drops the column and its index; the text the
upgrade removed does not come back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

import roomchat.store.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = roomchat.store.tables.UtcDateTime(timezone=True)

_NEW_MESSAGE = "new_room_chat_message"
_EDITED = "room_chat_message_edited"
_CHUNK = 1000  # rows read per statement
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS  # roomchat.jsoncodec's

messages = sa.table(
    "messages",
    sa.column("id", sa.BigInteger()),
    sa.column("room_id", sa.BigInteger()),
    sa.column("seq", sa.BigInteger()),
    sa.column("message_text", sa.Text()),
    sa.column("message_content", sa.Text()),
    sa.column("edited_at", UtcDateTime),
    sa.column("deleted_at", UtcDateTime),
)
room_events = sa.table(
    "room_events",
    sa.column("room_id", sa.BigInteger()),
    sa.column("seq", sa.BigInteger()),
    sa.column("action", sa.String()),
    sa.column("data", sa.LargeBinary()),
    sa.column("message_id", sa.BigInteger()),
)


def _shown_as_now(action: str, data: bytes, message: Any) -> bytes:
    """A frozen copy of ``roomchat.domain.events.shown_as_now`` as of this revision."""
    fields = orjson.loads(data)
    shown = fields if action == _NEW_MESSAGE else fields["message"]
    shown["message_text"] = message.message_text
    shown["message_content"] = message.message_content
    edited_at: datetime | None = message.edited_at
    deleted_at: datetime | None = message.deleted_at
    shown["edited_at"] = edited_at
    shown["deleted_at"] = deleted_at
    return orjson.dumps(fields, option=_OPTIONS)


_AT = (room_events.c.room_id == sa.bindparam("r_id"), room_events.c.seq == sa.bindparam("r_seq"))
_SET_DATA = room_events.update().where(*_AT).values(data=sa.bindparam("r_data"))
_SET_MESSAGE_ID = room_events.update().where(*_AT).values(message_id=sa.bindparam("r_message"))


def _shown_id(edit_data: bytes) -> int:
    """The id of the message an edit event shows."""
    return int(orjson.loads(edit_data)["message"]["id"])


def _rewritten(event: Any, message: Any) -> dict[str, Any]:
    data = _shown_as_now(event.action, event.data, message)
    return {"r_id": event.room_id, "r_seq": event.seq, "r_data": data}


def _index_edits(conn: sa.Connection) -> None:
    """Each stored edit event gets the id of the message it shows."""
    query = (
        sa.select(room_events.c.room_id, room_events.c.seq, room_events.c.data)
        .where(room_events.c.action == _EDITED)
        .order_by(room_events.c.room_id, room_events.c.seq)
        .limit(_CHUNK)
    )
    last = (0, 0)
    while True:
        after = sa.tuple_(room_events.c.room_id, room_events.c.seq) > sa.tuple_(*last)
        rows = conn.execute(query.where(after)).all()
        if not rows:
            return
        conn.execute(
            _SET_MESSAGE_ID,
            [{"r_id": r.room_id, "r_seq": r.seq, "r_message": _shown_id(r.data)} for r in rows],
        )
        last = (rows[-1].room_id, rows[-1].seq)


def _scrub_changed_messages(conn: sa.Connection) -> None:
    """Every message edited or deleted so far: its events show it as it is now."""
    changed = (
        sa.select(messages)
        .where(sa.or_(messages.c.edited_at.is_not(None), messages.c.deleted_at.is_not(None)))
        .order_by(messages.c.id)
        .limit(_CHUNK)
    )
    last = 0
    while True:
        found = conn.execute(changed.where(messages.c.id > last)).all()
        if not found:
            return
        by_id = {m.id: m for m in found}
        by_place = {(m.room_id, m.seq): m for m in found}
        columns = (room_events.c.room_id, room_events.c.seq, room_events.c.action)
        new = sa.select(*columns, room_events.c.data).where(
            sa.tuple_(room_events.c.room_id, room_events.c.seq).in_(list(by_place)),
            room_events.c.action == _NEW_MESSAGE,
        )
        edits = sa.select(*columns, room_events.c.data, room_events.c.message_id).where(
            room_events.c.message_id.in_(list(by_id))
        )
        rewritten = [_rewritten(e, by_place[(e.room_id, e.seq)]) for e in conn.execute(new)]
        rewritten += [_rewritten(e, by_id[e.message_id]) for e in conn.execute(edits)]
        if rewritten:
            conn.execute(_SET_DATA, rewritten)
        last = found[-1].id


def upgrade() -> None:
    op.add_column("room_events", sa.Column("message_id", sa.BigInteger(), nullable=True))
    op.create_index(
        op.f("ix_room_events_message_id"),
        "room_events",
        ["message_id"],
        postgresql_where=sa.text("message_id IS NOT NULL"),
        sqlite_where=sa.text("message_id IS NOT NULL"),
    )
    conn = op.get_bind()
    _index_edits(conn)
    _scrub_changed_messages(conn)


def downgrade() -> None:
    op.drop_index(op.f("ix_room_events_message_id"), table_name="room_events")
    with op.batch_alter_table("room_events", schema=None) as batch_op:
        batch_op.drop_column("message_id")
