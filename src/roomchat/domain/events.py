"""What a room broadcasts: durable events (on the room's seq) and ephemeral signals.

A *room event* is a durable change in a room: it takes the room's next ``seq`` in
the transaction that stores it, goes through the outbox to the other instances,
and is delivered to every joined connection in ``seq`` order exactly once (a gap is
filled from the database). A new kind of change is a new ``action`` name whose
``data`` travels on the same seq, with the same guarantees.

A *signal* (a typing indicator) has no seq: it is never stored or replayed, and
may be dropped on the way.

Both carry their ``frame``: the exact bytes every recipient gets, built once by
``frames.broadcast`` whether the event is live or rebuilt from the database. The
kinds, and what each means to the rest of the server, are in domain/kinds.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roomchat import frames, jsoncodec
from roomchat.domain.kinds import CHANGES_ONE_MESSAGE, NEW_MESSAGE, TYPING
from roomchat.domain.models import Message


def message_data(message: Message) -> bytes:
    """A message as every frame carries it (broadcast, send reply, join history, a
    change event's ``message``): the one message object."""
    return jsoncodec.dumps(message.to_dict())


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """A durable room event: ``seq`` orders it in its room; ``origin`` is the instance
    that stored it (an instance skips its own coming back from the bus)."""

    room_id: int
    seq: int
    action: str
    origin: str
    frame: bytes

    @classmethod
    def build(cls, room_id: int, seq: int, action: str, data: bytes, origin: str) -> RoomEvent:
        return cls(room_id, seq, action, origin, frames.broadcast(action, data))


@dataclass(frozen=True, slots=True)
class RoomSignal:
    """An ephemeral signal about a room: to the room's joined connections but
    ``sender_id``'s own (typing, read receipts), or, with ``to_user``, to every
    connection of that user on every instance, joined to the room or not (one device's
    read state reaching the others); with ``to_workspace``, to every connection
    following that workspace; or, ``internal``, to the instances themselves."""

    room_id: int
    sender_id: int
    origin: str
    frame: bytes
    to_user: int | None = None
    # For the other instances, not for clients (presence): ``frame`` is their message.
    internal: bool = False
    # To every connection following that workspace (subscribe_workspace), on every
    # instance, instead of a room's (the live sidebar: domain/sidebar.py); ``room_id``
    # is then 0 or the room it is about.
    to_workspace: int | None = None

    @classmethod
    def build(
        cls,
        room_id: int,
        sender_id: int,
        action: str,
        data: bytes,
        origin: str,
        to_user: int | None = None,
    ) -> RoomSignal:
        return cls(room_id, sender_id, origin, frames.broadcast(action, data), to_user)


def new_message_event(message: Message, origin: str, data: bytes | None = None) -> RoomEvent:
    """``new_room_chat_message`` for a stored message (``data``: it, already encoded)."""
    if data is None:
        data = message_data(message)
    return RoomEvent.build(message.room_id, message.seq, NEW_MESSAGE, data, origin)


def typing_signal(room_id: int, user_id: int, is_typing: bool, origin: str) -> RoomSignal:
    data = jsoncodec.dumps({"room_id": room_id, "user_id": user_id, "is_typing": is_typing})
    return RoomSignal.build(room_id, user_id, TYPING, data, origin)


# Message changes (domain/message_changes.py): each its own event on the room's seq.
# Every one carries ``message_id`` and ``message``: the message as it is after the
# change (docs/protocol.md, "Changing a message"), so a client replaces the message
# with that id whatever the kind, and the event log can find and rewrite every event
# that shows the message when a later edit or delete takes its text back.


def message_edited_data(seq: int, message: Message) -> dict[str, Any]:
    """``room_chat_message_edited``."""
    return {
        "room_id": message.room_id,
        "seq": seq,
        "message_id": message.id,
        "message": message.to_dict(),
    }


def message_deleted_data(seq: int, tombstone: Message, deleted_by: int) -> dict[str, Any]:
    """``room_chat_message_deleted``; ``message`` is the tombstone."""
    return {
        "room_id": tombstone.room_id,
        "seq": seq,
        "message_id": tombstone.id,
        "deleted_by": deleted_by,
        "message": tombstone.to_dict(),
    }


def reaction_data(seq: int, message: Message, user_id: int, reaction: str) -> dict[str, Any]:
    """``room_chat_reaction_added`` / ``room_chat_reaction_removed``."""
    return {
        "room_id": message.room_id,
        "seq": seq,
        "message_id": message.id,
        "user_id": user_id,
        "reaction": reaction,
        "message": message.to_dict(),
    }


def thread_updated_data(seq: int, root: Message) -> dict[str, Any]:
    """``room_chat_thread_updated``: a reply's root, its ``thread`` after the reply."""
    return {
        "room_id": root.room_id,
        "seq": seq,
        "thread_root_id": root.id,
        "thread": None if root.thread is None else root.thread.to_dict(),
        "message_id": root.id,
        "message": root.to_dict(),
    }


def shown_message_id(event: RoomEvent) -> int | None:
    """The message a change event (edit, delete, reaction) shows; None for other kinds
    (a new message's event is found at the message's own seq). The event log keeps it,
    so a later edit or delete finds the events to rewrite."""
    if event.action not in CHANGES_ONE_MESSAGE:
        return None
    return int(jsoncodec.loads(frames.data_of(event))["message_id"])


def shown_as_now(action: str, data: bytes, message: Message) -> bytes:
    """A stored event that shows ``message`` (its ``new_room_chat_message`` or one of
    its change events), rewritten to show no earlier version of it.

    The text and content become the current ones (null for a tombstone), with
    ``edited_at``, ``deleted_at`` and the mentions as they are now: a replay reads the
    message as history does. Everything else stays, the ``reactions`` too: they are those of the
    event's time, before the reaction events that follow it in the log (a delete's
    event, later in the log, clears them).
    """
    fields = jsoncodec.loads(data)
    shown = fields if action == NEW_MESSAGE else fields["message"]
    if shown["id"] != message.id:
        raise ValueError(f"event does not show message {message.id}")
    shown["message_text"] = message.message_text
    shown["message_content"] = message.message_content
    shown["edited_at"] = message.edited_at
    shown["deleted_at"] = message.deleted_at
    # Whom it mentions is part of its text: an earlier version's mentions go with it
    # (an event in a shape from before mentions, as revision 0009 reads them, has none).
    if "mentions" in shown:
        shown["mentions"] = list(message.mentions)
        shown["mentions_room"] = message.mentions_room
    return jsoncodec.dumps(fields)
