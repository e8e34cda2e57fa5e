"""How a room event is laid out in a Kafka record: the data as the value, the rest in headers.

The key is the room id (one partition per room keeps its order); the value is the
event's already-encoded data, forwarded to clients untouched. Heartbeats carry only
``kind`` and ``origin``.
"""

from __future__ import annotations

from collections.abc import Sequence

from roomchat.domain.events import EventKind, RoomEvent

HEARTBEAT = b"heartbeat"
_KINDS = {kind.value.encode(): kind for kind in EventKind}


def encode_headers(event: RoomEvent) -> list[tuple[str, bytes]]:
    return [
        ("kind", event.kind.value.encode()),
        ("room", str(event.room_id).encode()),
        ("seq", str(event.seq).encode()),
        ("origin", event.origin.encode()),
        ("sender", str(event.sender_id).encode()),
    ]


def decode_event(headers: Sequence[tuple[str, bytes]], value: bytes) -> RoomEvent | None:
    """The room event a record carries; None for heartbeats and records not ours."""
    h = dict(headers)
    kind = _KINDS.get(h.get("kind", b""))
    if kind is None:
        return None
    return RoomEvent(
        kind=kind,
        room_id=int(h["room"]),
        seq=int(h["seq"]),
        origin=h["origin"].decode(),
        sender_id=int(h["sender"]),
        data=value,
    )


def heartbeat_headers(origin: str) -> list[tuple[str, bytes]]:
    return [("kind", HEARTBEAT), ("origin", origin.encode())]


def room_key(event: RoomEvent) -> bytes:
    return str(event.room_id).encode()
