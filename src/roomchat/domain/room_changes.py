"""Membership and room changes as room events: their actions, their data, and who a
delivered one sends away.

Each is a durable event on the room's seq (domain/recorder.py). Whoever delivers a
``room_member_left`` or ``room_chat_deleted`` (the hub, live or from the database)
reads :func:`departure` of it: the connections it names stop getting the room's
events once they got that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roomchat import jsoncodec
from roomchat.domain.events import RoomEvent, data_of
from roomchat.domain.models import User

MEMBER_JOINED = "room_member_joined"
MEMBER_LEFT = "room_member_left"
ROOM_UPDATED = "room_chat_updated"
ROOM_DELETED = "room_chat_deleted"

# The actions after whose delivery connections leave the room (a cheap test on the
# hot path: most events are none of these).
DEPARTING = frozenset({MEMBER_LEFT, ROOM_DELETED})


def member_joined_data(room_id: int, seq: int, user: User, joined_at: datetime) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "seq": seq,
        "user_id": user.id,
        "user": user.to_dict(),
        "joined_at": joined_at,
    }


def member_left_data(room_id: int, seq: int, user_id: int, removed_by: int) -> dict[str, Any]:
    """``removed_by`` is ``user_id`` when they left on their own."""
    return {"room_id": room_id, "seq": seq, "user_id": user_id, "removed_by": removed_by}


def room_updated_data(room_id: int, seq: int, room: dict[str, Any]) -> dict[str, Any]:
    """``room``: as its members see it (with its link, never a passcode)."""
    return {"room_id": room_id, "seq": seq, "room": room}


def room_deleted_data(room_id: int, seq: int) -> dict[str, Any]:
    return {"room_id": room_id, "seq": seq}


@dataclass(frozen=True, slots=True)
class Departure:
    """Who stops receiving a room once this event reached them: one user, or everyone
    (``user_id`` None: the room was deleted)."""

    room_id: int
    user_id: int | None


def departure(event: RoomEvent) -> Departure | None:
    """What a delivered event ends, if anything (read back from its own data, so it is
    the same live, from the bus or rebuilt from the log)."""
    if event.action not in DEPARTING:
        return None
    if event.action == ROOM_DELETED:
        return Departure(event.room_id, None)
    return Departure(event.room_id, int(jsoncodec.loads(data_of(event))["user_id"]))
