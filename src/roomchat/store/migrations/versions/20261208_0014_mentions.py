"""mentions: messages.mentions, messages.mentions_room, and message_mentions

From this revision (issue 23) the server resolves ``@username`` and ``@room`` in a
message's text to room members: the message keeps whom it names (``mentions``) and
whether it mentions the room (``mentions_room``), and ``message_mentions`` holds a row
per mentioned member, what mention counts are counted from. Messages stored before it
mention nobody (the columns' defaults): resolving their old text now would announce
mentions nobody made under this revision's rules.

The message object grows ``mentions`` and ``mentions_room`` (after ``thread``), so the
stored events that show a message are brought to the new shape (``"mentions":[]``,
``"mentions_room":false``), byte for byte what the live code writes. Upgrading twice
writes the same bytes. Downgrading drops the columns and the table and leaves the
events' extra keys, which the older code ignores.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 11:00:00
"""

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "new_room_chat_message"
_SHOWING_IN_MESSAGE = (
    "room_chat_message_edited",
    "room_chat_message_deleted",
    "room_chat_reaction_added",
    "room_chat_reaction_removed",
    "room_chat_thread_updated",
)
_CHUNK = 1000
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS  # roomchat.jsoncodec's
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_events = sa.table(
    "room_events",
    sa.column("room_id", sa.BigInteger),
    sa.column("seq", sa.BigInteger),
    sa.column("action", sa.String(64)),
    sa.column("data", sa.LargeBinary),
)


def _with_mentions(message: dict[str, Any]) -> dict[str, Any]:
    """A message object as this revision's code writes it: ``mentions`` and
    ``mentions_room`` last (none, for what was stored before)."""
    shaped = {k: v for k, v in message.items() if k not in ("mentions", "mentions_room")}
    shaped["mentions"] = message.get("mentions", [])
    shaped["mentions_room"] = message.get("mentions_room", False)
    return shaped


def _reshaped(action: str, data: bytes) -> bytes:
    fields = orjson.loads(data)
    if action == _NEW:
        fields = _with_mentions(fields)
    else:
        fields["message"] = _with_mentions(fields["message"])
    return orjson.dumps(fields, option=_OPTIONS)


def upgrade() -> None:
    op.add_column("messages", sa.Column("mentions", sa.Text(), nullable=True))
    op.add_column(
        "messages",
        sa.Column("mentions_room", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "message_mentions",
        sa.Column("message_id", _BIG_ID, nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("room_id", _BIG_ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("thread_root_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_message_mentions_message_id_messages"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_message_mentions_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_message_mentions_room_id_rooms"
        ),
        sa.PrimaryKeyConstraint("message_id", "user_id", name="pk_message_mentions"),
    )
    op.create_index(
        "ix_message_mentions_user_room_seq", "message_mentions", ["user_id", "room_id", "seq"]
    )
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
    op.drop_index("ix_message_mentions_user_room_seq", table_name="message_mentions")
    op.drop_table("message_mentions")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("mentions_room")
        batch.drop_column("mentions")
