"""threads: a reply's thread_root_id, a root's thread summary, and thread_follows

From this revision (issue 23) a message may answer a top-level message of its room
(``thread_root_id``); the root keeps its thread's summary (``reply_count``,
``last_reply_at``, ``thread_participants``) and ``thread_follows`` who follows each
thread and how far they read it. Every message stored before it is top-level with no
replies (the columns' defaults), and nobody follows anything.

The message object grows ``thread_root_id`` (right after ``seq``) and ``thread``, so the
stored events that show a message (``new_room_chat_message`` and the change events'
``message``) are brought to the new shape: a replay shows what the live code now
writes, ``"thread_root_id":null`` and ``"thread":null`` (nothing stored before had a
reply). Upgrading twice writes the same bytes. Downgrading drops the columns and the
table (replies would read as top-level messages) and leaves the events' extra keys,
which the older code ignores.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "new_room_chat_message"
_SHOWING_IN_MESSAGE = (
    "room_chat_message_edited",
    "room_chat_message_deleted",
    "room_chat_reaction_added",
    "room_chat_reaction_removed",
)
_CHUNK = 1000
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS  # roomchat.jsoncodec's

_events = sa.table(
    "room_events",
    sa.column("room_id", sa.BigInteger),
    sa.column("seq", sa.BigInteger),
    sa.column("action", sa.String(64)),
    sa.column("data", sa.LargeBinary),
)


def _with_thread(message: dict[str, Any]) -> dict[str, Any]:
    """A message object as this revision's code writes it: ``thread_root_id`` after
    ``seq``, ``thread`` last (both null for what was stored before)."""
    shaped: dict[str, Any] = {}
    for key, value in message.items():
        if key in ("thread_root_id", "thread"):
            continue
        shaped[key] = value
        if key == "seq":
            shaped["thread_root_id"] = message.get("thread_root_id")
    shaped["thread"] = message.get("thread")
    return shaped


def _reshaped(action: str, data: bytes) -> bytes:
    fields = orjson.loads(data)
    if action == _NEW:
        fields = _with_thread(fields)
    else:
        fields["message"] = _with_thread(fields["message"])
    return orjson.dumps(fields, option=_OPTIONS)


def upgrade() -> None:
    op.add_column("messages", sa.Column("thread_root_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "messages", sa.Column("reply_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("messages", sa.Column("last_reply_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("thread_participants", sa.String(256), nullable=True))
    op.create_index(
        "ix_messages_thread_root",
        "messages",
        ["thread_root_id", "seq"],
        postgresql_where=sa.text("thread_root_id IS NOT NULL"),
        sqlite_where=sa.text("thread_root_id IS NOT NULL"),
    )
    op.create_table(
        "thread_follows",
        sa.Column("root_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("room_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["root_id"], ["messages.id"], name="fk_thread_follows_root_id_messages"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_thread_follows_user_id_users"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name="fk_thread_follows_room_id_rooms"),
        sa.PrimaryKeyConstraint("root_id", "user_id", name="pk_thread_follows"),
    )
    op.create_index("ix_thread_follows_user_id", "thread_follows", ["user_id"])
    _reshape_events()


def _reshape_events() -> None:
    conn = op.get_bind()
    showing = (_NEW, *_SHOWING_IN_MESSAGE)
    last: tuple[int, int] = (0, 0)
    while True:
        after = sa.tuple_(_events.c.room_id, _events.c.seq) > sa.tuple_(*last)
        rows = conn.execute(
            sa.select(_events.c.room_id, _events.c.seq, _events.c.action, _events.c.data)
            .where(_events.c.action.in_(showing), after)
            .order_by(_events.c.room_id, _events.c.seq)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        changed = []
        for room_id, seq, action, data in rows:
            new = _reshaped(action, bytes(data))
            if new != bytes(data):
                changed.append({"r_id": room_id, "r_seq": seq, "r_data": new})
        if changed:
            conn.execute(
                _events.update()
                .where(
                    _events.c.room_id == sa.bindparam("r_id"),
                    _events.c.seq == sa.bindparam("r_seq"),
                )
                .values(data=sa.bindparam("r_data")),
                changed,
            )
        last = (rows[-1].room_id, rows[-1].seq)


def downgrade() -> None:
    op.drop_index("ix_thread_follows_user_id", table_name="thread_follows")
    op.drop_table("thread_follows")
    op.drop_index("ix_messages_thread_root", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("thread_participants")
        batch.drop_column("last_reply_at")
        batch.drop_column("reply_count")
        batch.drop_column("thread_root_id")
