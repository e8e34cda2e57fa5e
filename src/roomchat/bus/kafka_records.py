"""How room events and signals are laid out in Kafka records: the frame as the value,
the rest in headers.

The key is the room id (one partition per room keeps its order); the value is the
broadcast frame, forwarded to clients untouched. ``kind`` tells an event (with its
``seq``) from a signal (with its ``sender``) and from a heartbeat, which carries
only ``kind`` and ``origin``. A record of a kind this version does not know (one an
older or newer instance sent) is skipped: what it carried of a room's events the
hub reads from the database when it notices the gap.
"""

from __future__ import annotations

from collections.abc import Sequence

from roomchat.domain.events import RoomEvent, RoomSignal

HEARTBEAT = b"heartbeat"
EVENT = b"event"
SIGNAL = b"signal"
# A signal for one user's connections: its own kind, so that an older instance, which
# does not know it, skips it rather than showing it to the whole room.
USER_SIGNAL = b"user-signal"
# Between instances only (presence): never shown to a client.
INTERNAL = b"internal"
# A signal for the followers of one workspace (the live sidebar): its own kind too.
WORKSPACE_SIGNAL = b"workspace-signal"

Headers = list[tuple[str, bytes]]


def event_headers(event: RoomEvent) -> Headers:
    return [
        ("kind", EVENT),
        ("room", str(event.room_id).encode()),
        ("seq", str(event.seq).encode()),
        ("action", event.action.encode()),
        ("origin", event.origin.encode()),
    ]


def signal_headers(signal: RoomSignal) -> Headers:
    headers = [
        ("kind", _signal_kind(signal)),
        ("room", str(signal.room_id).encode()),
        ("sender", str(signal.sender_id).encode()),
        ("origin", signal.origin.encode()),
    ]
    if signal.to_user is not None:
        headers.append(("to", str(signal.to_user).encode()))
    if signal.to_workspace is not None:
        headers.append(("workspace", str(signal.to_workspace).encode()))
    return headers


def _signal_kind(signal: RoomSignal) -> bytes:
    if signal.internal:
        return INTERNAL
    if signal.to_workspace is not None:
        return WORKSPACE_SIGNAL
    return SIGNAL if signal.to_user is None else USER_SIGNAL


def heartbeat_headers(origin: str) -> Headers:
    return [("kind", HEARTBEAT), ("origin", origin.encode())]


def decode(headers: Sequence[tuple[str, bytes]], value: bytes) -> RoomEvent | RoomSignal | None:
    """The event or signal a record carries; None for heartbeats and records not ours."""
    h = dict(headers)
    kind = h.get("kind")
    if kind == EVENT:
        return RoomEvent(
            room_id=int(h["room"]),
            seq=int(h["seq"]),
            action=h["action"].decode(),
            origin=h["origin"].decode(),
            frame=value,
        )
    if kind in (SIGNAL, USER_SIGNAL, INTERNAL, WORKSPACE_SIGNAL):
        return RoomSignal(
            room_id=int(h["room"]),
            sender_id=int(h["sender"]),
            origin=h["origin"].decode(),
            frame=value,
            to_user=int(h["to"]) if kind == USER_SIGNAL else None,
            internal=kind == INTERNAL,
            to_workspace=int(h["workspace"]) if kind == WORKSPACE_SIGNAL else None,
        )
    return None


def room_key(room_id: int) -> bytes:
    return str(room_id).encode()
