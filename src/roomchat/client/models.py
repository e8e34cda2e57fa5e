"""The protocol's objects (docs/protocol.md, "Objects") as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roomchat.client.fields import (
    JSONObject,
    MalformedData,
    integer,
    integers,
    obj,
    objects,
    optional_integer,
    optional_text,
    optional_timestamp,
    text,
    timestamp,
)

# A message's content: a string, a JSON object, or None (docs/protocol.md, "Objects").
Content = str | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str | None
    avatar_url: str | None

    @classmethod
    def from_data(cls, data: JSONObject) -> User:
        return cls(
            id=integer(data, "id"),
            username=text(data, "username"),
            display_name=optional_text(data, "display_name"),
            avatar_url=optional_text(data, "avatar_url"),
        )

    @property
    def name(self) -> str:
        """What to show: the display name, or the username when there is none."""
        return self.display_name or self.username


@dataclass(frozen=True, slots=True)
class Room:
    id: int
    workspace_id: int
    name: str | None  # None for a direct conversation
    created_by: int | None
    link_join: str | None  # shown to the room's members only
    created_at: datetime
    has_passcode: bool
    # The token of link_join, what the join endpoint takes (None exactly when link_join
    # is; and from a server older than the field).
    link_token: str | None = None
    # "room", or "direct": a conversation between ``member_ids`` alone (a server older
    # than direct conversations has rooms only).
    kind: str = "room"
    member_ids: tuple[int, ...] | None = None  # a direct conversation's people

    @classmethod
    def from_data(cls, data: JSONObject) -> Room:
        kind = data.get("kind", "room")
        return cls(
            id=integer(data, "id"),
            workspace_id=integer(data, "workspace_id"),
            name=optional_text(data, "name"),
            created_by=optional_integer(data, "created_by"),
            link_join=optional_text(data, "link_join"),
            created_at=timestamp(data, "created_at"),
            has_passcode=bool(data.get("has_passcode", False)),
            link_token=optional_text(data, "link_token"),
            kind=kind if isinstance(kind, str) else "room",
            member_ids=None if data.get("member_ids") is None else integers(data, "member_ids"),
        )

    @property
    def is_direct(self) -> bool:
        return self.kind == "direct"


@dataclass(frozen=True, slots=True)
class Reaction:
    reaction: str
    count: int
    user_ids: tuple[int, ...]  # the first 20 who gave it; count is exact

    @classmethod
    def from_data(cls, data: JSONObject) -> Reaction:
        return cls(text(data, "reaction"), integer(data, "count"), integers(data, "user_ids"))


@dataclass(frozen=True, slots=True)
class Thread:
    """A top-level message's replies: ``reply_count`` (exact, deleted ones included),
    the newest one's time, and the first ten who replied."""

    reply_count: int
    last_reply_at: datetime
    participant_ids: tuple[int, ...]

    @classmethod
    def from_data(cls, data: JSONObject) -> Thread:
        return cls(
            integer(data, "reply_count"),
            timestamp(data, "last_reply_at"),
            integers(data, "participant_ids"),
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file uploaded to a room. ``url`` and ``thumbnail_url`` (images only) are signed
    and short-lived (an hour by default): ``Client.attachment`` mints new ones."""

    id: int
    room_id: int
    filename: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str | None
    thumbnail_url: str | None
    created_at: datetime

    @classmethod
    def from_data(cls, data: JSONObject) -> Attachment:
        return cls(
            id=integer(data, "id"),
            room_id=integer(data, "room_id"),
            filename=text(data, "filename"),
            content_type=text(data, "content_type"),
            size=integer(data, "size"),
            width=optional_integer(data, "width"),
            height=optional_integer(data, "height"),
            url=optional_text(data, "url"),
            thumbnail_url=optional_text(data, "thumbnail_url"),
            created_at=timestamp(data, "created_at"),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """A message as the server last described it.

    ``text`` and ``content`` are the wire's ``message_text`` and ``message_content``; both
    are None once the message is deleted (a tombstone keeps its id and seq). ``content``
    is what its author sent: a string (``""`` too), a JSON object, or None.
    """

    id: int
    room_id: int
    seq: int  # its place in the room; edits and deletes do not move it
    user_id: int
    user: User
    text: str | None
    content: Content
    client_msg_id: str | None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    reactions: tuple[Reaction, ...] = ()
    thread_root_id: int | None = None  # a reply: the top-level message it answers
    thread: Thread | None = None  # a top-level message with replies
    mentions: tuple[int, ...] = ()  # the members its text names
    mentions_room: bool = False  # it mentions the whole room (@room)
    attachments: tuple[Attachment, ...] = ()  # its files

    @classmethod
    def from_data(cls, data: JSONObject) -> Message:
        # The server sends edited_at/deleted_at/reactions on every message; an older one
        # left them out of a new message's (never edited, deleted or reacted to yet).
        return cls(
            id=integer(data, "id"),
            room_id=integer(data, "room_id"),
            seq=integer(data, "seq"),
            user_id=integer(data, "user_id"),
            user=User.from_data(obj(data, "user")),
            text=optional_text(data, "message_text"),
            content=_content(data),
            client_msg_id=optional_text(data, "client_msg_id"),
            created_at=timestamp(data, "created_at"),
            edited_at=optional_timestamp(data, "edited_at"),
            deleted_at=optional_timestamp(data, "deleted_at"),
            reactions=_reactions(data),
            thread_root_id=optional_integer(data, "thread_root_id"),
            thread=thread_of(data.get("thread")),
            mentions=integers(data, "mentions") if data.get("mentions") is not None else (),
            mentions_room=bool(data.get("mentions_room", False)),
            attachments=_attachments(data),
        )

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_reply(self) -> bool:
        return self.thread_root_id is not None

    def mentions_user(self, user_id: int) -> bool:
        """Whether it mentions ``user_id``, by name or through @room."""
        return self.mentions_room or user_id in self.mentions


def _attachments(data: JSONObject) -> tuple[Attachment, ...]:
    """``attachments`` (absent from an older server: none)."""
    value = data.get("attachments")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, Mapping) for a in value):
        raise MalformedData("attachments: expected a list of objects")
    return tuple(Attachment.from_data(a) for a in value)


def thread_of(value: Any) -> Thread | None:
    """A ``thread`` field (null, or absent from an older server: None)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MalformedData("thread: expected an object")
    return Thread.from_data(value)


@dataclass(frozen=True, slots=True)
class JoinedRoom:
    """What ``Client.join`` returns: the room and where the client stands in it."""

    room: Room
    seq: int  # the room's seq the client has applied up to
    messages: tuple[Message, ...]  # a first join: the latest messages as they are now
    has_older: bool  # a first join: older messages exist (page them over REST)
    online_user_ids: tuple[int, ...] | None  # None: presence not shown for this room


def _content(data: JSONObject) -> Content:
    value = data.get("message_content")
    if value is None or isinstance(value, str | Mapping):
        return value
    kind = type(value).__name__
    raise MalformedData(f"message_content: expected a string or an object, got {kind}")


def _reactions(data: JSONObject) -> tuple[Reaction, ...]:
    if data.get("reactions") is None:
        return ()
    return tuple(Reaction.from_data(r) for r in objects(data, "reactions"))
