"""room_events: the durable room event log, backfilled with every stored message

Every durable room event is kept on its room's seq, as it was broadcast: ``action``
and the encoded ``data`` object (``broadcast_frame(action, data)`` is the frame). Up
to this revision a new message was the only kind, so each stored message becomes one
``new_room_chat_message`` event whose ``data`` is byte for byte what its broadcast
carried.

The encoding is a frozen copy of ``Message.to_dict()`` through ``roomchat.jsoncodec``
as of this revision, not an import: issue 9 changes the message object (edited_at,
deleted_at, reactions), and this backfill must still write what was broadcast before
it, whenever it runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

import roomchat.store.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = roomchat.store.tables.UtcDateTime(timezone=True)

_NEW_MESSAGE = "new_room_chat_message"
_CHUNK = 1000  # messages read and events written per statement

messages = sa.table(
    "messages",
    sa.column("id", sa.BigInteger()),
    sa.column("room_id", sa.BigInteger()),
    sa.column("seq", sa.BigInteger()),
    sa.column("user_id", sa.BigInteger()),
    sa.column("message_text", sa.Text()),
    sa.column("message_content", sa.Text()),
    sa.column("client_msg_id", sa.String()),
    sa.column("created_at", UtcDateTime),
)
users = sa.table(
    "users",
    sa.column("id", sa.BigInteger()),
    sa.column("username", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("avatar_url", sa.String()),
)
room_events = sa.table(
    "room_events",
    sa.column("room_id", sa.BigInteger()),
    sa.column("seq", sa.BigInteger()),
    sa.column("action", sa.String()),
    sa.column("data", sa.LargeBinary()),
    sa.column("created_at", UtcDateTime),
)


def _message_data(row: Any) -> bytes:
    """A frozen copy of ``roomchat.domain.events.message_data`` as of this revision."""
    created_at: datetime = row.created_at
    message = {
        "id": row.id,
        "room_id": row.room_id,
        "seq": row.seq,
        "user_id": row.user_id,
        "user": {
            "id": row.user_id,
            "username": row.username,
            "display_name": row.display_name,
            "avatar_url": row.avatar_url,
        },
        "message_text": row.message_text,
        "message_content": row.message_content,
        "client_msg_id": row.client_msg_id,
        "created_at": created_at.astimezone(UTC),
    }
    return orjson.dumps(message, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


def _backfill() -> None:
    conn = op.get_bind()
    query = (
        sa.select(
            messages,
            users.c.username,
            users.c.display_name,
            users.c.avatar_url,
        )
        .join(users, users.c.id == messages.c.user_id)
        .order_by(messages.c.id)
        .limit(_CHUNK)
    )
    last = 0
    while True:
        rows = conn.execute(query.where(messages.c.id > last)).all()
        if not rows:
            return
        conn.execute(
            room_events.insert(),
            [
                {
                    "room_id": row.room_id,
                    "seq": row.seq,
                    "action": _NEW_MESSAGE,
                    "data": _message_data(row),
                    "created_at": row.created_at,
                }
                for row in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "room_events",
        sa.Column("room_id", BigId, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_events_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("room_id", "seq", name=op.f("pk_room_events")),
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("room_events")
