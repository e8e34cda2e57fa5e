"""attachments: files and images in messages

From this revision (issue 24) a room member may upload files to a room and attach them
to a message. ``attachments`` holds a row per upload (the file itself is in the file
store: local disk or S3, store key ``storage_key``); ``message_id`` is set by the send
that attaches it. Nothing stored before it has a file.

The message object grows ``attachments`` (last, after ``mentions_room``), so the stored
events that show a message (``new_room_chat_message`` and the change events'
``message``) are brought to the new shape, ``"attachments":[]``, byte for byte what the
live code writes. Upgrading twice writes the same bytes. Downgrading drops the table
(the files stay in the store: remove them by hand) and leaves the events' extra key,
which the older code ignores.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
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


def _with_attachments(message: dict[str, Any]) -> dict[str, Any]:
    """A message object as this revision's code writes it: ``attachments`` last (none,
    for what was stored before)."""
    shaped = {k: v for k, v in message.items() if k != "attachments"}
    shaped["attachments"] = message.get("attachments", [])
    return shaped


def _reshaped(action: str, data: bytes) -> bytes:
    fields = orjson.loads(data)
    if action == _NEW:
        fields = _with_attachments(fields)
    else:
        fields["message"] = _with_attachments(fields["message"])
    return orjson.dumps(fields, option=_OPTIONS)


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", _BIG_ID, nullable=False),
        sa.Column("room_id", _BIG_ID, nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.String(1024), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(256), nullable=False),
        sa.Column("thumbnail_key", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_attachments_workspace_id_workspaces"
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name="fk_attachments_room_id_rooms"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_attachments_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
    )
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"])
    op.create_index("ix_attachments_room_id", "attachments", ["room_id", "id"])
    op.create_index("ix_attachments_workspace_id", "attachments", ["workspace_id"])
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
    op.drop_index("ix_attachments_workspace_id", table_name="attachments")
    op.drop_index("ix_attachments_room_id", table_name="attachments")
    op.drop_index("ix_attachments_message_id", table_name="attachments")
    op.drop_table("attachments")
