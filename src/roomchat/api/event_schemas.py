"""A room's durable events as ``GET /api/v1/room-chats/{room_id}/events`` lists them:
``{"action", "data"}``, the data exactly as broadcast (docs/protocol.md, and the
AsyncAPI document at /asyncapi.yaml for the WebSocket side). One model per durable
kind of domain/kinds.py, told apart by ``action``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from roomchat.api.schemas import Id, Message, Room, Thread, User
from roomchat.domain import kinds


class _Seq(BaseModel):
    room_id: Id
    seq: int


class _MessageChange(_Seq):
    message_id: Id
    message: Message = Field(description="the message as it is after the change")


class MessageEditedData(_MessageChange):
    pass


class MessageDeletedData(_MessageChange):
    deleted_by: Id


class ReactionData(_MessageChange):
    user_id: Id
    reaction: str


class ThreadUpdatedData(_MessageChange):
    thread_root_id: Id
    thread: Thread | None = Field(description="the root's thread after the reply")


class MemberJoinedData(_Seq):
    user_id: Id
    user: User
    joined_at: datetime


class MemberLeftData(_Seq):
    user_id: Id
    removed_by: Id = Field(description="user_id when they left on their own")


class RoomUpdatedData(_Seq):
    room: Room


class RoomDeletedData(_Seq):
    pass


# Each durable kind's model, named for the document (the SDK's type names).
_DATA: dict[str, tuple[str, type[BaseModel]]] = {
    kinds.NEW_MESSAGE: ("NewMessageEvent", Message),
    kinds.MESSAGE_EDITED: ("MessageEditedEvent", MessageEditedData),
    kinds.MESSAGE_DELETED: ("MessageDeletedEvent", MessageDeletedData),
    kinds.REACTION_ADDED: ("ReactionAddedEvent", ReactionData),
    kinds.REACTION_REMOVED: ("ReactionRemovedEvent", ReactionData),
    kinds.THREAD_UPDATED: ("ThreadUpdatedEvent", ThreadUpdatedData),
    kinds.MEMBER_JOINED: ("MemberJoinedEvent", MemberJoinedData),
    kinds.MEMBER_LEFT: ("MemberLeftEvent", MemberLeftData),
    kinds.ROOM_UPDATED: ("RoomUpdatedEvent", RoomUpdatedData),
    kinds.ROOM_DELETED: ("RoomDeletedEvent", RoomDeletedData),
}
if set(_DATA) != kinds.DURABLE_KINDS:  # a durable kind added to kinds.py: describe it here
    raise RuntimeError(f"event schemas and kinds differ: {set(_DATA) ^ kinds.DURABLE_KINDS}")


def _event(name: str, action: str, data: type[BaseModel]) -> type[BaseModel]:
    """``{"action": <action>, "data": <data>}``, named ``name`` in the document."""
    tag: Any = Literal[action]  # one value, known only here: the kinds table has it
    return create_model(name, action=(tag, ...), data=(data, ...))


_EVENTS = tuple(_event(name, action, data) for action, (name, data) in _DATA.items())
RoomEventItem = Annotated[Union[_EVENTS], Field(discriminator="action")]  # type: ignore[valid-type]  # noqa: UP007


class EventPage(BaseModel):
    events: list[RoomEventItem] = Field(description="oldest first, each as broadcast")
    has_more: bool
