"""one message object: messages.content_is_json, and the event log in the new shapes

From this revision (issue 22) ``message_content`` is kept as its author sent it: a
string (``""`` included) or a JSON object, which the messages table keeps as its
compact encoding with ``content_is_json`` set. Rows stored before it keep their
strings (``content_is_json`` false).

The message is also one object wherever it appears, and every message-change event
carries ``message_id`` and ``message`` (the message as it is after the change).
Upgrading brings the stored events to those shapes, so a replay (``after_seq``,
``GET .../events``, webhooks not delivered yet) shows what the live code now writes:

- ``new_room_chat_message``: ``edited_at`` and ``deleted_at`` null unless an edit or a
  delete set them already (revision 0009), and ``reactions`` empty (a new message has
  none);
- ``room_chat_message_edited``: ``message_id`` beside its ``message``;
- ``room_chat_message_deleted``: ``message``, the tombstone;
- ``room_chat_reaction_added`` / ``_removed``: ``message``, with the text, content,
  ``edited_at`` and ``deleted_at`` as they are now (as an edit or a delete rewrites them
  from now on) and the reactions as they were after that event, counted by replaying
  the room's reaction events in seq order; and ``room_events.message_id``, so a later
  edit or delete finds and rewrites them.

The message encoding here is a frozen copy of ``roomchat.domain.models.Message.to_dict``
as of this revision, not an import: the live object may grow later, this must still
write what this revision's code writes. Upgrading twice writes the same bytes.
Downgrading drops ``content_is_json`` (an object content is then read as its JSON
text); the events keep their new shapes, which the older code reads (it ignores the
keys it does not know).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

import roomchat.store.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "new_room_chat_message"
_EDITED = "room_chat_message_edited"
_DELETED = "room_chat_message_deleted"
_ADDED = "room_chat_reaction_added"
_REMOVED = "room_chat_reaction_removed"
_SHOWING = (_NEW, _EDITED, _DELETED, _ADDED, _REMOVED)
_CHUNK = 1000  # events read per statement
_USER_IDS_SHOWN = 20  # store/reactions.py's, per reaction
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS  # roomchat.jsoncodec's
UtcDateTime = roomchat.store.tables.UtcDateTime(timezone=True)

# The tables as this revision reads them (not roomchat.store.tables, which may change).
_meta = sa.MetaData()
_messages = sa.Table(
    "messages",
    _meta,
    sa.Column("id", sa.BigInteger),
    sa.Column("room_id", sa.BigInteger),
    sa.Column("seq", sa.BigInteger),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("message_text", sa.Text),
    sa.Column("message_content", sa.Text),
    sa.Column("client_msg_id", sa.String(64)),
    sa.Column("created_at", UtcDateTime),
    sa.Column("edited_at", UtcDateTime),
    sa.Column("deleted_at", UtcDateTime),
)
_users = sa.Table(
    "users",
    _meta,
    sa.Column("id", sa.BigInteger),
    sa.Column("username", sa.String(64)),
    sa.Column("display_name", sa.String(128)),
    sa.Column("avatar_url", sa.String(512)),
)
_events = sa.Table(
    "room_events",
    _meta,
    sa.Column("room_id", sa.BigInteger),
    sa.Column("seq", sa.BigInteger),
    sa.Column("action", sa.String(64)),
    sa.Column("data", sa.LargeBinary),
    sa.Column("message_id", sa.BigInteger),
)

_AT = (_events.c.room_id == sa.bindparam("r_id"), _events.c.seq == sa.bindparam("r_seq"))
_REWRITE = (
    _events.update()
    .where(*_AT)
    .values(data=sa.bindparam("r_data"), message_id=sa.bindparam("r_message"))
)


def _message(row: Any, reactions: list[dict[str, Any]]) -> dict[str, Any]:
    """A frozen copy of ``Message.to_dict`` as of this revision (every stored content is
    a string: objects arrive with this revision)."""
    return {
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
        "created_at": row.created_at,
        "edited_at": row.edited_at,
        "deleted_at": row.deleted_at,
        "reactions": reactions,
    }


class _Reactions:
    """One message's reactions, replayed from its reaction events in seq order: the
    summary the live code reads from its rows (store/reactions.py): each reaction in the
    order of its oldest current giver, givers oldest first, the first 20 listed."""

    def __init__(self) -> None:
        self._givers: dict[str, list[int]] = {}  # reaction -> user ids, oldest first
        self._since: dict[str, int] = {}  # reaction -> seq of its oldest current giver
        self._given_at: dict[tuple[str, int], int] = {}  # (reaction, user) -> seq

    def add(self, reaction: str, user_id: int, seq: int) -> None:
        if (reaction, user_id) in self._given_at:
            return
        self._given_at[(reaction, user_id)] = seq
        self._givers.setdefault(reaction, []).append(user_id)
        self._since.setdefault(reaction, seq)

    def remove(self, reaction: str, user_id: int) -> None:
        if self._given_at.pop((reaction, user_id), None) is None:
            return
        givers = self._givers[reaction]
        givers.remove(user_id)
        if givers:
            self._since[reaction] = self._given_at[(reaction, givers[0])]
        else:
            del self._givers[reaction], self._since[reaction]

    def summary(self) -> list[dict[str, Any]]:
        ordered = sorted(self._givers, key=lambda r: (self._since[r], r))
        return [
            {
                "reaction": r,
                "count": len(self._givers[r]),
                "user_ids": self._givers[r][:_USER_IDS_SHOWN],
            }
            for r in ordered
        ]


def _messages_by_id(conn: sa.Connection, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    query = (
        sa.select(_messages, _users.c.username, _users.c.display_name, _users.c.avatar_url)
        .join(_users, _users.c.id == _messages.c.user_id)
        .where(_messages.c.id.in_(sorted(ids)))
    )
    return {row.id: row for row in conn.execute(query)}


def _upgraded(
    action: str,
    seq: int,
    fields: dict[str, Any],
    rows: dict[int, Any],
    reactions: dict[int, _Reactions],
) -> tuple[dict[str, Any], int | None] | None:
    """The event's data in this revision's shape and the message it shows (None: the
    event stays as it is)."""
    if action == _NEW:
        if "reactions" in fields:
            return None
        fields.setdefault("edited_at", None)
        fields.setdefault("deleted_at", None)
        fields["reactions"] = []
        return fields, None
    if action == _EDITED:
        shown = fields["message"]
        rest = {k: v for k, v in fields.items() if k not in ("room_id", "seq", "message")}
        head = {"room_id": fields["room_id"], "seq": fields["seq"], "message_id": shown["id"]}
        return {**head, **rest, "message": shown}, shown["id"]
    message_id = fields["message_id"]
    if action == _DELETED:
        reactions.pop(message_id, None)  # a tombstone has none
        summary: list[dict[str, Any]] = []
    else:
        given = reactions.setdefault(message_id, _Reactions())
        if action == _ADDED:
            given.add(fields["reaction"], fields["user_id"], seq)
        else:
            given.remove(fields["reaction"], fields["user_id"])
        summary = given.summary()
    row = rows.get(message_id)
    if row is None:
        return None  # no such message: nothing to show
    rest = {k: v for k, v in fields.items() if k != "message"}
    return {**rest, "message": _message(row, summary)}, message_id


def _upgrade_events(conn: sa.Connection) -> None:
    """Every event that shows a message, room by room in seq order (the reaction
    summaries are replayed per room), a chunk at a time."""
    query = (
        sa.select(_events.c.room_id, _events.c.seq, _events.c.action, _events.c.data)
        .where(_events.c.action.in_(_SHOWING))
        .order_by(_events.c.room_id, _events.c.seq)
        .limit(_CHUNK)
    )
    last = (0, 0)
    room_id: int | None = None
    reactions: dict[int, _Reactions] = {}  # of the room being read
    while True:
        after = sa.tuple_(_events.c.room_id, _events.c.seq) > sa.tuple_(*last)
        found = conn.execute(query.where(after)).all()
        if not found:
            return
        parsed = [(row, orjson.loads(row.data)) for row in found]
        ids = {f["message_id"] for row, f in parsed if row.action in (_DELETED, _ADDED, _REMOVED)}
        rows = _messages_by_id(conn, ids)
        rewritten = []
        for row, fields in parsed:
            if row.room_id != room_id:
                room_id, reactions = row.room_id, {}
            upgraded = _upgraded(row.action, row.seq, fields, rows, reactions)
            if upgraded is None:
                continue
            data, shown = upgraded
            rewritten.append(
                {
                    "r_id": row.room_id,
                    "r_seq": row.seq,
                    "r_data": orjson.dumps(data, option=_OPTIONS),
                    "r_message": shown,
                }
            )
        if rewritten:
            conn.execute(_REWRITE, rewritten)
        last = (found[-1].room_id, found[-1].seq)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_is_json", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _upgrade_events(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("content_is_json")
