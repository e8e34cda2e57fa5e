"""Everything ``Client.events()`` yields: one frozen dataclass per broadcast action.

Two kinds of broadcast (docs/protocol.md, "Delivery guarantees"):

- ``RoomEvent``: durable. It takes the room's next ``seq``, is stored in the room's event
  log, and is replayed after a reconnect; the client hands each one over exactly once,
  in ``seq`` order per room.
- ``Signal``: ephemeral (typing, presence, read receipts, sidebar activity). No ``seq``
  of its own, never replayed, may be lost.

An action this version does not know (or a known one it cannot read) comes through as
``UnknownEvent`` rather than failing, so a newer server never breaks an older client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from roomchat.client.fields import (
    JSONObject,
    MalformedData,
    boolean,
    integer,
    obj,
    optional_integer,
    text,
    timestamp,
)
from roomchat.client.models import Message, Room, Thread, User, thread_of


@dataclass(frozen=True, slots=True)
class Event:
    """Base of everything the client hands over."""


@dataclass(frozen=True, slots=True)
class RoomEvent(Event):
    """A durable room event: ``seq`` is its place in the room's order."""

    room_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class NewMessage(RoomEvent):
    message: Message


@dataclass(frozen=True, slots=True)
class MessageEdited(RoomEvent):
    message: Message  # the whole message as it is now: replace the one with its id


@dataclass(frozen=True, slots=True)
class MessageDeleted(RoomEvent):
    message_id: int
    deleted_by: int
    # The tombstone: replace the message with its id (None from a server older than it).
    message: Message | None = None


@dataclass(frozen=True, slots=True)
class ReactionAdded(RoomEvent):
    message_id: int
    user_id: int
    reaction: str
    # The message after the change, its reactions counted (None from an older server).
    message: Message | None = None


@dataclass(frozen=True, slots=True)
class ReactionRemoved(RoomEvent):
    message_id: int
    user_id: int
    reaction: str
    message: Message | None = None  # as in ReactionAdded


@dataclass(frozen=True, slots=True)
class ThreadUpdated(RoomEvent):
    """A reply moved its thread: ``message`` is the root as it is now (its ``thread``
    is ``thread``); replace the root with its id."""

    thread_root_id: int
    thread: Thread | None
    message: Message


@dataclass(frozen=True, slots=True)
class MemberJoined(RoomEvent):
    user_id: int
    user: User
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class MemberLeft(RoomEvent):
    user_id: int
    removed_by: int | None  # the user themselves when they left


@dataclass(frozen=True, slots=True)
class RoomUpdated(RoomEvent):
    room: Room


@dataclass(frozen=True, slots=True)
class RoomDeleted(RoomEvent):
    pass


@dataclass(frozen=True, slots=True)
class Signal(Event):
    """An ephemeral broadcast: not stored, not replayed, may be lost."""

    room_id: int


@dataclass(frozen=True, slots=True)
class Typing(Signal):
    user_id: int
    is_typing: bool  # treat True as expiring after a few seconds unless repeated


@dataclass(frozen=True, slots=True)
class ReadReceipt(Signal):
    """Another member read the room up to ``last_read_seq`` (``room_chat_read``)."""

    user_id: int
    last_read_seq: int


@dataclass(frozen=True, slots=True)
class ReadStateUpdated(Signal):
    """Your own read position moved, maybe on another device (``room_read_updated``)."""

    last_read_seq: int
    unread_count: int  # top-level messages
    thread_unread: int = 0  # replies in the threads you follow (0 from an older server)
    mention_count: int = 0  # unread messages that mention you


@dataclass(frozen=True, slots=True)
class PresenceChanged(Signal):
    user_id: int
    online: bool


@dataclass(frozen=True, slots=True)
class RoomActivity(Signal):
    """A followed workspace's room changed (``subscribe_workspace``).

    ``seq`` is the room's seq when the activity was read, not an event of its own.
    """

    seq: int
    unread_count: int
    last_message: Message | None
    thread_unread: int = 0
    mention_count: int = 0


@dataclass(frozen=True, slots=True)
class Mentioned(Signal):
    """A message mentions you (``room_chat_mention``), wherever you are: on every
    connection, joined to its room or not; once per message. ``seq`` is the message's."""

    seq: int
    message: Message


@dataclass(frozen=True, slots=True)
class WorkspaceSignal(Event):
    """The live sidebar of a followed workspace (``subscribe_workspace``): a signal, not
    replayed; after a reconnect read the room list and the members again."""

    workspace_id: int


@dataclass(frozen=True, slots=True)
class WorkspaceRoomCreated(WorkspaceSignal):
    room: Room  # as a workspace member not in it sees it (no link)


@dataclass(frozen=True, slots=True)
class WorkspaceRoomUpdated(WorkspaceSignal):
    room: Room  # renamed, passcode set or cleared (no link)


@dataclass(frozen=True, slots=True)
class WorkspaceRoomDeleted(WorkspaceSignal):
    room_id: int


@dataclass(frozen=True, slots=True)
class WorkspaceMemberJoined(WorkspaceSignal):
    user: User
    role: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class WorkspaceMemberLeft(WorkspaceSignal):
    """A member left (``removed_by`` is ``user_id``) or was removed. When it is you,
    this connection follows the workspace no more."""

    user_id: int
    removed_by: int


@dataclass(frozen=True, slots=True)
class WorkspaceMemberUpdated(WorkspaceSignal):
    user_id: int
    role: str  # owner, admin, member
    changed_by: int


@dataclass(frozen=True, slots=True)
class WorkspaceUpdated(WorkspaceSignal):
    name: str  # renamed
    owner_id: int


@dataclass(frozen=True, slots=True)
class UserUpdated(Event):
    """Someone changed their display name or picture: show every message of
    ``user.id`` with this ``user`` (old messages carry the author as they were)."""

    user: User


@dataclass(frozen=True, slots=True)
class InvitationCancelled(Event):
    """An invitation to you was cancelled by the workspace's owner or an admin."""

    invitation_id: int
    workspace_id: int


@dataclass(frozen=True, slots=True)
class InvitationReceived(Event):
    """You were invited to a workspace (accept it by REST: /api/v1/invitations)."""

    invitation_id: int
    workspace_id: int
    workspace_name: str
    invited_by: User
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UnknownEvent(Event):
    """A broadcast this client cannot type: its action and data as they came."""

    action: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connected(Event):
    """The client is connected and has re-joined its rooms (``reconnected``: not the first
    time); missed room events are handed over (or being paged) from here on."""

    reconnected: bool


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """The socket went away; the client is reconnecting by itself."""

    code: int | None  # the close code, None when the connection just dropped
    reason: str


@dataclass(frozen=True, slots=True)
class RoomAccessLost(Event):
    """The client could not resume a room (removed while offline, the room deleted): it
    stopped following it. Joining it again is the user's decision."""

    room_id: int
    code: str
    message: str


def _message(d: JSONObject) -> Event:
    return NewMessage(integer(d, "room_id"), integer(d, "seq"), Message.from_data(d))


def _edited(d: JSONObject) -> Event:
    message = Message.from_data(obj(d, "message"))
    return MessageEdited(integer(d, "room_id"), integer(d, "seq"), message)


def _changed(d: JSONObject) -> Message | None:
    """A change event's ``message``: the message as it is after the change."""
    return None if d.get("message") is None else Message.from_data(obj(d, "message"))


def _deleted(d: JSONObject) -> Event:
    return MessageDeleted(
        integer(d, "room_id"),
        integer(d, "seq"),
        integer(d, "message_id"),
        integer(d, "deleted_by"),
        _changed(d),
    )


def _reaction(kind: type[ReactionAdded] | type[ReactionRemoved]) -> Callable[[JSONObject], Event]:
    def parse(d: JSONObject) -> Event:
        return kind(
            integer(d, "room_id"),
            integer(d, "seq"),
            integer(d, "message_id"),
            integer(d, "user_id"),
            text(d, "reaction"),
            _changed(d),
        )

    return parse


def _thread_updated(d: JSONObject) -> Event:
    return ThreadUpdated(
        integer(d, "room_id"),
        integer(d, "seq"),
        integer(d, "thread_root_id"),
        thread_of(d.get("thread")),
        Message.from_data(obj(d, "message")),
    )


def _joined(d: JSONObject) -> Event:
    return MemberJoined(
        integer(d, "room_id"),
        integer(d, "seq"),
        integer(d, "user_id"),
        User.from_data(obj(d, "user")),
        timestamp(d, "joined_at"),
    )


def _left(d: JSONObject) -> Event:
    return MemberLeft(
        integer(d, "room_id"),
        integer(d, "seq"),
        integer(d, "user_id"),
        optional_integer(d, "removed_by"),
    )


def _room_updated(d: JSONObject) -> Event:
    return RoomUpdated(integer(d, "room_id"), integer(d, "seq"), Room.from_data(obj(d, "room")))


def _room_deleted(d: JSONObject) -> Event:
    return RoomDeleted(integer(d, "room_id"), integer(d, "seq"))


def _typing(d: JSONObject) -> Event:
    return Typing(integer(d, "room_id"), integer(d, "user_id"), boolean(d, "is_typing"))


def _receipt(d: JSONObject) -> Event:
    return ReadReceipt(integer(d, "room_id"), integer(d, "user_id"), integer(d, "last_read_seq"))


def _read_state(d: JSONObject) -> Event:
    return ReadStateUpdated(
        integer(d, "room_id"),
        integer(d, "last_read_seq"),
        integer(d, "unread_count"),
        _count(d, "thread_unread"),
        _count(d, "mention_count"),
    )


def _count(d: JSONObject, key: str) -> int:
    """A count a newer server added: 0 when absent."""
    return integer(d, key) if key in d else 0


def _presence(d: JSONObject) -> Event:
    return PresenceChanged(integer(d, "room_id"), integer(d, "user_id"), boolean(d, "online"))


def _activity(d: JSONObject) -> Event:
    last = d.get("last_message")
    return RoomActivity(
        integer(d, "room_id"),
        integer(d, "seq"),
        integer(d, "unread_count"),
        None if last is None else Message.from_data(obj(d, "last_message")),
        _count(d, "thread_unread"),
        _count(d, "mention_count"),
    )


def _mention(d: JSONObject) -> Event:
    return Mentioned(integer(d, "room_id"), integer(d, "seq"), Message.from_data(obj(d, "message")))


def _ws_room(
    kind: type[WorkspaceRoomCreated] | type[WorkspaceRoomUpdated],
) -> Callable[[JSONObject], Event]:
    def parse(d: JSONObject) -> Event:
        return kind(integer(d, "workspace_id"), Room.from_data(obj(d, "room")))

    return parse


def _ws_room_deleted(d: JSONObject) -> Event:
    return WorkspaceRoomDeleted(integer(d, "workspace_id"), integer(d, "room_id"))


def _ws_joined(d: JSONObject) -> Event:
    return WorkspaceMemberJoined(
        integer(d, "workspace_id"),
        User.from_data(obj(d, "user")),
        text(d, "role"),
        timestamp(d, "joined_at"),
    )


def _ws_left(d: JSONObject) -> Event:
    return WorkspaceMemberLeft(
        integer(d, "workspace_id"), integer(d, "user_id"), integer(d, "removed_by")
    )


def _ws_member_updated(d: JSONObject) -> Event:
    return WorkspaceMemberUpdated(
        integer(d, "workspace_id"), integer(d, "user_id"), text(d, "role"), integer(d, "changed_by")
    )


def _ws_updated(d: JSONObject) -> Event:
    workspace = obj(d, "workspace")
    return WorkspaceUpdated(
        integer(d, "workspace_id"), text(workspace, "name"), integer(workspace, "owner_id")
    )


def _user_updated(d: JSONObject) -> Event:
    return UserUpdated(User.from_data(obj(d, "user")))


def _invited(d: JSONObject) -> Event:
    invitation = obj(d, "invitation")
    return InvitationReceived(
        integer(invitation, "id"),
        integer(invitation, "workspace_id"),
        text(invitation, "workspace_name"),
        User.from_data(obj(invitation, "invited_by")),
        timestamp(invitation, "created_at"),
    )


def _uninvited(d: JSONObject) -> Event:
    return InvitationCancelled(integer(d, "invitation_id"), integer(d, "workspace_id"))


_PARSERS: dict[str, Callable[[JSONObject], Event]] = {
    "new_room_chat_message": _message,
    "room_chat_message_edited": _edited,
    "room_chat_message_deleted": _deleted,
    "room_chat_reaction_added": _reaction(ReactionAdded),
    "room_chat_reaction_removed": _reaction(ReactionRemoved),
    "room_chat_thread_updated": _thread_updated,
    "room_member_joined": _joined,
    "room_member_left": _left,
    "room_chat_updated": _room_updated,
    "room_chat_deleted": _room_deleted,
    "typing_indicator": _typing,
    "room_chat_read": _receipt,
    "room_read_updated": _read_state,
    "room_presence": _presence,
    "room_activity": _activity,
    "room_chat_mention": _mention,
    "workspace_room_created": _ws_room(WorkspaceRoomCreated),
    "workspace_room_updated": _ws_room(WorkspaceRoomUpdated),
    "workspace_room_deleted": _ws_room_deleted,
    "workspace_member_joined": _ws_joined,
    "workspace_member_left": _ws_left,
    "workspace_member_updated": _ws_member_updated,
    "workspace_updated": _ws_updated,
    "user_updated": _user_updated,
    "invitation_received": _invited,
    "invitation_cancelled": _uninvited,
}

# Signals that carry a seq which is not an event of their own (docs/protocol.md).
_SIGNALS_WITH_A_SEQ = frozenset({"room_activity", "room_chat_mention"})


def parse_event(frame: Mapping[str, Any]) -> Event:
    """A broadcast frame (or a replayed ``{action, data}``) as a typed event."""
    action = frame.get("action")
    data = frame.get("data")
    if not isinstance(data, Mapping):
        data = {}
    parser = _PARSERS.get(action) if isinstance(action, str) else None
    if parser is None:
        return UnknownEvent(str(action), data)
    try:
        return parser(data)
    except MalformedData:
        return UnknownEvent(str(action), data)


def room_position(frame: Mapping[str, Any]) -> tuple[int, int] | None:
    """(room_id, seq) of a durable room event, None for a signal.

    Read from the frame, not the typed event, so an action this version does not know
    is still sequenced (and so never handed over twice) if it carries a room's seq.
    """
    if frame.get("action") in _SIGNALS_WITH_A_SEQ:
        return None
    data = frame.get("data")
    if not isinstance(data, Mapping):
        return None
    room_id, seq = data.get("room_id"), data.get("seq")
    if type(room_id) is not int or type(seq) is not int:
        return None
    return room_id, seq
