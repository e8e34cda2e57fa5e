"""The values the domain and the store exchange: what a repository is given and what it
answers (besides the models), and the refusals it raises.

They live in the domain so that the store imports them and the domain imports nothing
from the store (domain/ports.py names the repositories that take and return them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from roomchat.domain.models import Content, Message, Room, User
from roomchat.frames import MessageTemplate

if TYPE_CHECKING:
    from roomchat.domain.events import RoomEvent, RoomSignal


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A room event as the log keeps it (``data``: the broadcast's encoded data)."""

    room_id: int
    seq: int
    action: str
    data: bytes


class TooManyWorkspaces(Exception):
    """The user already owns the most workspaces one may."""


class NameTaken(Exception):
    """The owner has another workspace of that name already."""


class TooManyWebhooks(Exception):
    """The workspace has its limit of endpoints already."""


@dataclass(frozen=True, slots=True)
class NewWebhook:
    workspace_id: int
    url: str
    events: tuple[str, ...]
    secret: str
    created_by: int


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A room event as a webhook carries it."""

    room_id: int
    seq: int
    action: str
    data: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Failing:
    """An endpoint's state after a failed attempt (``disabled_reason``: it is disabled)."""

    failures: int
    failing_since: datetime
    next_attempt_at: datetime | None
    disabled_reason: str | None


class Invited(Enum):
    """What inviting did; only the domain sees it (the owner gets one answer for all)."""

    CREATED = "created"
    ALREADY_PENDING = "already_pending"
    ALREADY_MEMBER = "already_member"
    WORKSPACE_FULL = "workspace_full"


@dataclass(frozen=True, slots=True)
class InvitationLimits:
    per_workspace: int  # pending invitations to join one workspace
    per_invitee: int  # pending invitations in one user's list ...
    per_inviter: int  # ... and how many of those one inviter may hold


class TooManyKeys(Exception):
    """The workspace already has its limit of unrevoked keys."""


class BotNameTaken(Exception):
    """The bot's random username (or its look-alike key) exists already: pick another."""


@dataclass(frozen=True, slots=True)
class NewKey:
    workspace_id: int
    name: str
    prefix: str
    key_hash: str
    bot_username: str
    bot_username_key: str
    bot_password_hash: str  # one that no password matches: a bot never logs in
    bot_role: str


@dataclass(frozen=True, slots=True)
class RevokedKey:
    """A key revoked now or before, and its bot."""

    key_id: int
    workspace_id: int
    bot_id: int


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """An unrevoked key, as a request made with it needs it."""

    key_id: int
    workspace_id: int
    bot: User
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReadPosition:
    """A member's place in a room: read up to ``last_read_seq``, ``unread_count``
    top-level messages after it; ``thread_unread``: the unread replies of the threads
    they follow there; ``mention_count``: the unread messages mentioning them."""

    room_id: int
    last_read_seq: int
    unread_count: int
    thread_unread: int = 0
    mention_count: int = 0  # unread messages (replies too) that mention them

    def to_dict(self) -> dict[str, int]:
        """As mark replies, ``room_read_updated`` and the unread summary show it."""
        return {
            "room_id": self.room_id,
            "last_read_seq": self.last_read_seq,
            "unread_count": self.unread_count,
            "thread_unread": self.thread_unread,
            "mention_count": self.mention_count,
        }


@dataclass(frozen=True, slots=True)
class RoomAccess:
    """A room and where one user stands with it, read in one query."""

    room: Room
    passcode_hash: str | None
    workspace_role: str | None  # None: not in the room's workspace
    is_member: bool


@dataclass(frozen=True, slots=True)
class RoomChanges:
    """What a room update sets; None leaves a field as it is."""

    name: str | None = None
    passcode_hash: str | None = None
    clear_passcode: bool = False
    join_token: str | None = None


@dataclass(frozen=True, slots=True)
class RoomLimits:
    per_workspace: int  # rooms not deleted in one workspace ...
    per_creator: int  # ... and of those, made by one user


class TooManyRooms(Exception):
    """A bound of RoomLimits is reached; ``by_creator``: the creator's own."""

    def __init__(self, by_creator: bool) -> None:
        super().__init__("creator" if by_creator else "workspace")
        self.by_creator = by_creator


class DirectRefused(Exception):
    """No direct conversation made: one of its people is not a member of the workspace
    (``not_members``), or its creator made as many there as one may."""

    def __init__(self, not_members: bool) -> None:
        super().__init__("not members" if not_members else "too many")
        self.not_members = not_members


@dataclass(frozen=True, slots=True)
class Mentioned:
    """Whom a message's text mentions (domain/mentions.py resolves it): the members it
    names (``user_ids``, in the order named: the message's ``mentions``), whether it
    mentions the room (``room``), and every member that makes mentioned (``members``:
    its author left out), who get a mention row and a ``room_chat_mention``."""

    user_ids: tuple[int, ...] = ()
    room: bool = False
    members: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.room or self.members)


NO_MENTIONS = Mentioned()


@dataclass(frozen=True, slots=True)
class NewMessage:
    room_id: int
    user: User
    message_text: str
    message_content: Content
    client_msg_id: str | None
    thread_root_id: int | None = None  # a reply to that top-level message of the room
    mentioned: Mentioned = NO_MENTIONS
    # Uploads to attach (domain/attachments.py checked them); claimed in the send's
    # transaction (store/messages.py), so a send with files takes the steps.
    attachment_ids: tuple[int, ...] = ()

    @property
    def plain(self) -> bool:
        """A top-level message mentioning nobody: what the one-statement batch write
        stores (store/append_pg.py); a reply also changes its root and takes a second
        seq, and a mention writes its rows."""
        return self.thread_root_id is None and not self.mentioned and not self.attachment_ids

    @property
    def idempotency_key(self) -> tuple[int, int, str] | None:
        if self.client_msg_id is None:
            return None
        return (self.room_id, self.user.id, self.client_msg_id)


@dataclass(frozen=True, slots=True)
class Appended:
    message: Message
    created: bool  # False: an earlier message with the same client_msg_id
    # A new reply: the seq its room_chat_thread_updated takes (the reply's + 1).
    thread_seq: int | None = None


class RootState(Enum):
    """What a message is as a thread's root (domain/threads.py says what each means)."""

    ROOT = "root"  # a top-level message of the room, not deleted: it takes replies
    MISSING = "missing"  # no such message in the room
    DELETED = "deleted"  # a deleted top-level message
    REPLY = "reply"  # a reply: threads do not nest


@dataclass(frozen=True, slots=True)
class ThreadPosition:
    """A user's place in a thread: whether they follow it, read up to ``last_read_seq``
    (on the room's seq), ``unread_replies`` after it."""

    room_id: int
    thread_root_id: int
    following: bool
    last_read_seq: int
    unread_replies: int


@dataclass(frozen=True, slots=True)
class FollowedThread:
    """A thread a user follows: its root (with its ``thread``) and their read state."""

    root: Message
    last_read_seq: int
    unread_replies: int


class BadThreadRoot(Exception):
    """A reply's root turned out not to be one when the reply was stored."""

    def __init__(self, state: RootState) -> None:
        super().__init__(state.value)
        self.state = state


class ClientMsgIdTaken(Exception):
    """A concurrent send with the same client_msg_id committed first (the transaction
    is lost: redo the batch without it)."""


@dataclass(frozen=True, slots=True)
class ChangeTarget:
    """A message about to be changed, its room's creator, and the changer's role in the
    room's workspace (None: none)."""

    message: Message
    room_creator: int
    actor_role: str | None


@dataclass(frozen=True, slots=True)
class Written:
    """One send of the batch: stored now (``seq`` set), or a replay of ``message_id``."""

    message_id: int
    seq: int | None
    outbox_id: int | None


@dataclass(frozen=True, slots=True)
class Send:
    room_id: int
    user_id: int
    message_text: str
    message_content: Content
    client_msg_id: str | None
    template: MessageTemplate


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """The user a token names, with what decides whether the token still counts."""

    user: User
    tokens_valid_after: datetime | None
    session_revoked: bool


@dataclass(frozen=True, slots=True)
class Revocation:
    id: int
    user_id: int
    session_id: str | None
    issued_before: datetime | None
    revoked_at: datetime


@dataclass(frozen=True, slots=True)
class Ticket:
    user_id: int
    session_id: str
    auth_time: datetime
    token_expires_at: datetime
    expires_at: datetime


class UsernameTaken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """A stored send: the message, its encoded data and its event (None for a replay of
    an earlier client_msg_id); a reply's ``room_chat_thread_updated`` after it
    (``extra``), and the signals the send makes (mentions: domain/mentions.py)."""

    message: Message
    data: bytes
    event: RoomEvent | None
    extra: tuple[RoomEvent, ...] = ()
    signals: tuple[RoomSignal, ...] = ()

    @property
    def events(self) -> tuple[RoomEvent, ...]:
        """What the transport publishes after its reply, as for an ``Outcome`` (a send
        keeps this type of its own: the group commit makes one per message)."""
        return () if self.event is None else (self.event, *self.extra)
