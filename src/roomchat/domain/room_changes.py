"""Membership and room changes as room events: their actions, their data, and who a
delivered one sends away.

Each is a durable event on the room's seq (store/recorder.py). Whoever delivers one
that ends a membership (``kinds.ends_membership``: a member left, the room went; the
hub, live or from the database) reads :func:`departure` of it: the connections it
names stop getting the room's events once they got that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roomchat import frames, jsoncodec
from roomchat.domain import kinds
from roomchat.domain.events import RoomEvent
from roomchat.domain.kinds import Membership
from roomchat.domain.models import User


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
    if event.action not in kinds.ENDING:
        return None
    if kinds.KINDS[event.action].membership is Membership.ENDS_ALL:
        return Departure(event.room_id, None)
    return Departure(event.room_id, int(jsoncodec.loads(frames.data_of(event))["user_id"]))
