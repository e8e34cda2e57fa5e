"""The one SQLAlchemy metadata: every table roomchat stores. Alembic autogenerates from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no 64-bit autoincrement type of its own; INTEGER PRIMARY KEY is its rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("avatar_url", String(512), nullable=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # What the username looks like (domain.names.username_skeleton): one per user, so
    # no one registers a look-alike of an existing name.
    Column("username_key", String(64), nullable=False, unique=True),
    # "Log out everywhere": tokens issued before this instant are refused.
    Column("tokens_valid_after", UtcDateTime, nullable=True),
    # Whether others see this user's read receipts (their own unread counts work anyway).
    Column("share_read_receipts", Boolean, nullable=False, server_default=true()),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

workspace_members = Table(
    "workspace_members",
    metadata,
    Column("workspace_id", BigId, ForeignKey("workspaces.id"), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True, index=True),
    Column("role", String(16), nullable=False),
    Column("joined_at", UtcDateTime, nullable=False),
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workspace_id", BigId, ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("created_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("passcode_hash", String(256), nullable=True),
    Column("join_token", String(64), nullable=False, unique=True),
    # The room's seq counter: bumped in the transaction that stores each room event.
    Column("last_seq", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    # A deleted room is kept (its seq and log stay consistent) but answers not_found.
    Column("deleted_at", UtcDateTime, nullable=True),
    # "room", or "direct": a direct conversation (domain/direct_chats.py), whose name is
    # stored as "" (shown as null) and whose join token is never shown.
    Column("kind", String(16), nullable=False, server_default="room"),
    # A direct conversation's people, the ids sorted and comma-separated ("3,7,12"): who
    # it is between, for good (shown as member_ids).
    Column("direct_members", String(256), nullable=True),
    # The same while every one of them is still in the workspace: the unique key that
    # makes get-or-create race-free. Cleared when one of them leaves the workspace, so
    # the same people meeting again get a new conversation, not the old one's history.
    Column("direct_key", String(256), nullable=True),
)
# NULLs are distinct in a unique index (PostgreSQL and SQLite alike): only live keys clash.
Index("uq_rooms_direct_key", rooms.c.workspace_id, rooms.c.direct_key, unique=True)

room_users = Table(
    "room_users",
    metadata,
    Column("room_id", BigId, ForeignKey("rooms.id"), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True, index=True),
    Column("joined_at", UtcDateTime, nullable=False),
    # The member has read the room up to this seq (never moves back but on purpose:
    # mark_room_unread); a message after it, by someone else and not deleted, is unread.
    Column("last_read_seq", BigInteger, nullable=False, server_default="0"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("message_text", Text, nullable=True),  # null once deleted
    # A string as sent, or a JSON object's compact encoding (``content_is_json``):
    # store/rows.py turns both back into what the author sent.
    Column("message_content", Text, nullable=True),
    Column("client_msg_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Set by edit_room_chat_message / delete_room_chat_message (issue 9). A deleted
    # message stays as a tombstone: same id and seq, text and content null.
    Column("edited_at", UtcDateTime, nullable=True),
    Column("deleted_at", UtcDateTime, nullable=True),
    Column("content_is_json", Boolean, nullable=False, server_default=false()),
    # A reply's thread: the top-level message of the same room it answers (null: the
    # message is top-level). Replies are on the room's seq like any message.
    Column("thread_root_id", BigInteger, nullable=True),
    # A top-level message's thread, kept by each reply's transaction (store/threads.py):
    # its replies (tombstones included, as the thread shows them), the newest one's
    # time, and who wrote them, the first 10 ids in order ("3,7,12").
    Column("reply_count", Integer, nullable=False, server_default="0"),
    Column("last_reply_at", UtcDateTime, nullable=True),
    Column("thread_participants", String(256), nullable=True),
    # Whom the text mentions (domain/mentions.py): the members it names, their ids in
    # the order named ("3,7"), and whether it mentions the whole room (@room).
    Column("mentions", Text, nullable=True),
    Column("mentions_room", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("room_id", "seq", name="uq_messages_room_seq"),
    UniqueConstraint("room_id", "user_id", "client_msg_id", name="uq_messages_client_msg_id"),
)
# A thread's page (its replies by seq) and its unread replies; partial, so top-level
# sends (the hot path) maintain no index entry.
Index(
    "ix_messages_thread_root",
    messages.c.thread_root_id,
    messages.c.seq,
    postgresql_where=messages.c.thread_root_id.is_not(None),
    sqlite_where=messages.c.thread_root_id.is_not(None),
)

# Files uploaded to rooms (issue 24, domain/attachments.py). ``storage_key`` names the
# object in the file store (local disk or S3); ``thumbnail_key`` its thumbnail (images
# only). ``message_id`` null: uploaded, not yet sent (removed after a day); set by the
# send's transaction. A deleted message's rows go in its tombstone's transaction, their
# objects with the next sweep (which also removes objects no row names).
attachments = Table(
    "attachments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workspace_id", BigId, ForeignKey("workspaces.id"), nullable=False),
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("message_id", BigInteger, nullable=True, index=True),
    # The place in the send's attachment_ids (NULL: attached before revision 0016, when
    # a message's files were in upload order).
    Column("position", SmallInteger, nullable=True),
    Column("filename", String(1024), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("storage_key", String(256), nullable=False),
    Column("thumbnail_key", String(256), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_attachments_room_id", attachments.c.room_id, attachments.c.id)
Index("ix_attachments_workspace_id", attachments.c.workspace_id)

# Every member a message mentions (named, or through @room), one row each, the author
# never: what mention counts are counted from. ``active`` false: an edit took the mention
# back or the message was deleted; the row stays so that a mention made again is not
# announced twice (room_chat_mention goes once per message and member). ``seq`` and
# ``thread_root_id`` are the message's, so a count needs no join.
message_mentions = Table(
    "message_mentions",
    metadata,
    Column("message_id", BigId, ForeignKey("messages.id"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("thread_root_id", BigInteger, nullable=True),
    Column("active", Boolean, nullable=False),
    PrimaryKeyConstraint("message_id", "user_id"),
    Index("ix_message_mentions_user_room_seq", "user_id", "room_id", "seq"),
)

# Who follows which thread, and how far they read it: a row per (thread, user) once
# they wrote its root, replied, were mentioned in it, followed or read it.
# ``following`` false: they unfollowed it (kept, so nothing follows them back in but
# a reply of their own or follow_thread). ``last_read_seq`` is on the room's seq: a
# reply after it, by someone else and not deleted, is unread for a follower.
thread_follows = Table(
    "thread_follows",
    metadata,
    Column("root_id", BigId, ForeignKey("messages.id"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("following", Boolean, nullable=False),
    Column("last_read_seq", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("root_id", "user_id"),
)

# The room event log: every durable room event, on its room's seq, as it was broadcast
# (``data`` is the broadcast's encoded ``data`` object; roomchat.frames.broadcast
# rebuilds the frame from ``action`` and ``data``). Written in the transaction that
# takes the seq; read to fill gaps and to page a room's events. An edit or a delete
# rewrites the ``data`` of the message's earlier events (store/event_log.py).
room_events = Table(
    "room_events",
    metadata,
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("action", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The message a change event (edit, delete, reaction) shows (null for every other
    # event: a new message's event is found at the message's own seq), so a later edit
    # or delete finds them.
    Column("message_id", BigInteger, nullable=True),
    PrimaryKeyConstraint("room_id", "seq"),
)
# Partial: only change events are in it, so sending (the hot path) maintains no index.
Index(
    "ix_room_events_message_id",
    room_events.c.message_id,
    postgresql_where=room_events.c.message_id.is_not(None),
    sqlite_where=room_events.c.message_id.is_not(None),
)

passcode_failures = Table(
    "passcode_failures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
    Index("ix_passcode_failures_room_user_at", "room_id", "user_id", "failed_at"),
)

# Transactional outbox: room events written with the message, published to the bus after.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("room_id", BigId, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("origin", String(64), nullable=False, index=True),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Revoked login sessions (by session id: every token refreshed from one login), or
# all of a user's tokens issued before a moment (session_id null, issued_before set).
# Rows are kept until the tokens they name expire; every instance polls new rows (by
# id) to close the sockets those tokens opened.
token_revocations = Table(
    "token_revocations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("session_id", String(64), nullable=True, unique=True),
    Column("issued_before", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
    Column("revoked_at", UtcDateTime, nullable=False),
)

# Single-use WebSocket connection tickets (POST /api/v1/auth/ws-ticket): only a hash
# of the ticket is stored; redeeming deletes the row. The ticket carries the session and
# expiry of the access token it was issued for, so revoking that token covers it.
ws_tickets = Table(
    "ws_tickets",
    metadata,
    Column("ticket_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("auth_time", UtcDateTime, nullable=False),
    Column("token_expires_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# A workspace owner's invitation; the invitee becomes a member only by accepting.
workspace_invitations = Table(
    "workspace_invitations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workspace_id", BigId, ForeignKey("workspaces.id"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("invited_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("workspace_id", "user_id", name="uq_workspace_invitations_workspace_user"),
)

# Who reacted how to a message: one row per (message, user, reaction). The message
# object's "reactions" summary is built from these rows.
message_reactions = Table(
    "message_reactions",
    metadata,
    Column("message_id", BigId, ForeignKey("messages.id"), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("reaction", String(64), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# A workspace's API keys (docs/server-api.md). Only a hash of the key is stored; each
# key has a bot user of its own (``user_id``), a member of the workspace with the
# role "bot". A revoked key stays listed (``revoked_at``); its bot leaves the
# workspace and its rooms at the revocation and stays the author of what it posted.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workspace_id", BigId, ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),  # the key's first characters, to tell keys apart
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Written at most once a minute per key: when the key was last used, about.
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# A workspace's webhook endpoints (docs/integration.md). The signing secret is kept as
# is (it signs every delivery); after a rotation the previous one keeps signing beside
# it until ``previous_secret_expires_at``. Delivery state lives on the row, so every
# instance sees it: ``failing_since``/``failures``/``next_attempt_at`` while a receiver
# fails, ``enabled`` false with ``disabled_reason`` once it failed too long. One instance
# at a time delivers an endpoint's events: the one holding its lease.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workspace_id", BigId, ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    Column("events", String(1024), nullable=False),  # action names, comma-separated
    Column("secret", String(64), nullable=False),
    Column("previous_secret", String(64), nullable=True),
    Column("previous_secret_expires_at", UtcDateTime, nullable=True),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("disabled_reason", String(256), nullable=True),
    Column("failing_since", UtcDateTime, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("created_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
)

# How far each endpoint got in each room: every event up to ``delivered_seq`` was
# delivered (or was not one it asked for). Rooms that existed when the endpoint was
# registered start at their seq then; a room made later starts at 0.
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("webhook_id", BigId, ForeignKey("webhooks.id"), nullable=False),
    Column("room_id", BigId, ForeignKey("rooms.id"), nullable=False),
    Column("delivered_seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("webhook_id", "room_id"),
)

# Recent delivery attempts, for GET .../webhooks/{id}/deliveries: the newest few hundred
# per endpoint are kept.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("webhook_id", BigId, ForeignKey("webhooks.id"), nullable=False, index=True),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("room_id", BigId, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | failed | blocked
    Column("response_code", Integer, nullable=True),
    Column("error", String(256), nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("next_retry_at", UtcDateTime, nullable=True),
)
