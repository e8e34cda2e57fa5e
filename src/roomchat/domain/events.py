"""Room events: what the hub delivers locally and the bus carries between instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    MESSAGE = "message"
    TYPING = "typing"


ACTION_OF = {
    EventKind.MESSAGE: b"new_room_chat_message",
    EventKind.TYPING: b"typing_indicator",
}


def broadcast_frame(kind: EventKind, data: bytes) -> bytes:
    """The guide's broadcast envelope around an already-encoded ``data`` object."""
    return b'{"action":"' + ACTION_OF[kind] + b'","status":"success","data":' + data + b"}"


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """One broadcast, encoded once: ``frame`` is the exact text every recipient gets.

    ``data`` is the encoded payload (a message, or a typing state) and what the bus
    carries; ``seq`` orders a room's messages (0 for ephemeral events); ``origin`` is
    the instance that produced it, so an instance can skip its own events coming back.
    """

    kind: EventKind
    room_id: int
    seq: int
    origin: str
    sender_id: int
    data: bytes
    outbox_id: int | None = None
    frame: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", broadcast_frame(self.kind, self.data))
