"""Plain records the domain hands around; transports serialise them with ``to_dict()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_ID = 2**63 - 1  # ids and seqs are 64-bit integers in every backend; larger ones name nothing

# A message's ``message_content`` as its author sent it: a string (``""`` included), a
# JSON object, or None. An object is stored and returned as the same object (domain/
# messages.py checks that it survives encoding exactly); do not mutate one.
Content = str | dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    avatar_url: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "avatar_url": self.avatar_url,
        }


@dataclass(frozen=True, slots=True)
class Workspace:
    id: int
    name: str
    owner_id: int
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner_id": self.owner_id,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class WorkspaceMember:
    workspace_id: int
    user: User
    role: str
    joined_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "user_id": self.user.id,
            "role": self.role,
            "joined_at": self.joined_at,
            "user": self.user.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Invitation:
    """A pending invitation to a workspace, as its invitee sees it."""

    id: int
    workspace_id: int
    workspace_name: str
    invited_by: User
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "workspace_name": self.workspace_name,
            "invited_by": self.invited_by.to_dict(),
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """A pending invitation as the workspace's owner and admins see it."""

    id: int
    workspace_id: int
    user: User  # the invitee
    invited_by: User
    created_at: datetime
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "user_id": self.user.id,
            "user": self.user.to_dict(),
            "invited_by": self.invited_by.to_dict(),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


ROOM, DIRECT = "room", "direct"  # a room's kind


@dataclass(frozen=True, slots=True)
class Room:
    id: int
    workspace_id: int
    name: str
    created_by: int
    join_token: str
    has_passcode: bool
    created_at: datetime
    # ROOM, or DIRECT: a direct conversation between ``member_ids`` (domain/
    # direct_chats.py): no name, no passcode, no link, nobody joins it.
    kind: str = ROOM
    member_ids: tuple[int, ...] | None = None  # a direct conversation's people, sorted

    @property
    def is_direct(self) -> bool:
        return self.kind == DIRECT

    def to_dict(self, public_base_url: str, *, member: bool = True) -> dict[str, Any]:
        """The room as its members see it; ``member=False`` hides the join link.

        The link lets a workspace member in, so only the room's members may pass it on
        (for a passcode room the link still asks for the passcode). ``link_token`` is the
        link's last part, what the join endpoint takes: null exactly when the link is.
        A direct conversation has neither (nobody joins one), nor a name.
        """
        token = self.join_token if member and not self.is_direct else None
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "name": None if self.is_direct else self.name,
            "created_by": self.created_by,
            "link_join": None if token is None else f"{public_base_url}/join/{token}",
            "link_token": token,
            "created_at": self.created_at,
            "has_passcode": self.has_passcode,
            "kind": self.kind,
            "member_ids": None if self.member_ids is None else list(self.member_ids),
        }


@dataclass(frozen=True, slots=True)
class RoomView:
    """A room as one user sees it: whether they are a member decides what it shows."""

    room: Room
    is_member: bool

    def to_dict(self, public_base_url: str) -> dict[str, Any]:
        return self.room.to_dict(public_base_url, member=self.is_member)


@dataclass(frozen=True, slots=True)
class RoomUser:
    room_id: int
    user: User
    joined_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "user_id": self.user.id,
            "joined_at": self.joined_at,
            "user": self.user.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Reaction:
    """One reaction on a message: ``count`` people, the first of them in ``user_ids``
    (capped by the store: store/reactions.py, USER_IDS_SHOWN)."""

    reaction: str
    count: int
    user_ids: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"reaction": self.reaction, "count": self.count, "user_ids": list(self.user_ids)}


# Reply authors a thread summary lists (store/threads.py keeps the first ones).
THREAD_PARTICIPANTS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Thread:
    """A top-level message's thread: ``reply_count`` replies (exact; tombstones
    included, as the thread shows them), the newest at ``last_reply_at``, written by
    ``participant_ids`` (the first ten authors, in the order they first replied)."""

    reply_count: int
    last_reply_at: datetime
    participant_ids: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply_count": self.reply_count,
            "last_reply_at": self.last_reply_at,
            "participant_ids": list(self.participant_ids),
        }


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file uploaded to a room (domain/attachments.py). ``url`` and ``thumbnail_url``
    are short-lived signed URLs, minted whenever the attachment is served (None until
    then; ``thumbnail_url`` stays None for a file that is not an image)."""

    id: int
    room_id: int
    user_id: int
    filename: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    created_at: datetime
    has_thumbnail: bool = False
    message_id: int | None = None
    url: str | None = None
    thumbnail_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room_id": self.room_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "url": self.url,
            "thumbnail_url": self.thumbnail_url,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    room_id: int
    seq: int
    user: User
    message_text: str | None  # None: deleted (a tombstone)
    message_content: Content  # None: none given, or deleted
    client_msg_id: str | None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    reactions: tuple[Reaction, ...] = ()
    thread_root_id: int | None = None  # a reply: the top-level message it answers
    thread: Thread | None = None  # a top-level message with replies: its thread
    mentions: tuple[int, ...] = ()  # the members its text names (domain/mentions.py)
    mentions_room: bool = False  # its text mentions the whole room (@room)
    attachments: tuple[Attachment, ...] = ()  # its files (a tombstone keeps none)

    def to_dict(self) -> dict[str, Any]:
        """The one message object, wherever a message appears (the send reply,
        ``new_room_chat_message``, history, the change events' ``message``, webhooks):
        the guide's fields, ``edited_at``, ``deleted_at`` and ``reactions`` (a new
        message: null, null, []), and ``thread``. The PostgreSQL batch statement splices
        the encoding around id and seq (frames.MessageTemplate), so id, room_id and seq
        come first; ``thread_root_id`` follows them, where a cheap read finds it
        (frames.thread_root_of)."""
        return {
            "id": self.id,
            "room_id": self.room_id,
            "seq": self.seq,
            "thread_root_id": self.thread_root_id,
            "user_id": self.user.id,
            "user": self.user.to_dict(),
            "message_text": self.message_text,
            "message_content": self.message_content,
            "client_msg_id": self.client_msg_id,
            "created_at": self.created_at,
            "edited_at": self.edited_at,
            "deleted_at": self.deleted_at,
            "reactions": [r.to_dict() for r in self.reactions],
            "thread": None if self.thread is None else self.thread.to_dict(),
            "mentions": list(self.mentions),
            "mentions_room": self.mentions_room,
            "attachments": [a.to_dict() for a in self.attachments] if self.attachments else [],
        }

    def mentions_user(self, user_id: int) -> bool:
        """Whether the message mentions ``user_id``, by name or through @room."""
        return self.mentions_room or user_id in self.mentions

    def state_dict(self) -> dict[str, Any]:
        """The same as ``to_dict`` (there is one message object); kept for callers that
        named the message as history shows it."""
        return self.to_dict()


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[Message]
    has_more: bool


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A workspace's API key as its owner sees it: never the key itself, which is shown
    once, when it is made (``IssuedKey``)."""

    id: int
    workspace_id: int
    name: str
    prefix: str  # the key's first characters, to tell keys apart
    bot: User  # who the key acts as
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "name": self.name,
            "prefix": self.prefix,
            "user": self.bot.to_dict(),
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook endpoint with its delivery state. ``to_dict`` never shows a secret: the
    secret is shown once, when made or rotated (domain/webhooks.py)."""

    id: int
    workspace_id: int
    url: str
    events: tuple[str, ...]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    failures: int
    next_attempt_at: datetime | None
    created_by: int
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "url": self.url,
            "events": list(self.events),
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "failing_since": self.failing_since,
            "failures": self.failures,
            "next_attempt_at": self.next_attempt_at,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt to deliver one event to one endpoint."""

    event_id: str
    event_type: str
    room_id: int
    seq: int
    attempt: int
    outcome: str  # delivered | failed | blocked
    response_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: datetime
    next_retry_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "room_id": self.room_id,
            "seq": self.seq,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "response_code": self.response_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "attempted_at": self.attempted_at,
            "next_retry_at": self.next_retry_at,
        }
