"""Turning result rows into domain records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from roomchat import jsoncodec
from roomchat.domain.models import Content, Message, Room, Thread, User
from roomchat.store.tables import users

USER_COLUMNS = (users.c.id, users.c.username, users.c.display_name, users.c.avatar_url)


def user_from(row: Any, prefix: str = "") -> User:
    m = row._mapping
    return User(
        id=m[f"{prefix}id"],
        username=m[f"{prefix}username"],
        display_name=m[f"{prefix}display_name"],
        avatar_url=m[f"{prefix}avatar_url"],
    )


def room_from(row: Any) -> Room:
    m = row._mapping
    return Room(
        id=m["id"],
        workspace_id=m["workspace_id"],
        name=m["name"],
        created_by=m["created_by"],
        join_token=m["join_token"],
        has_passcode=m["passcode_hash"] is not None,
        created_at=m["created_at"],
        kind=m["kind"],
        member_ids=member_ids_from(m["direct_members"]),
    )


def member_ids_from(stored: str | None) -> tuple[int, ...] | None:
    """``rooms.direct_members`` ("3,7,12") as ids; None for a room that is not direct."""
    if stored is None:
        return None
    return tuple(int(part) for part in stored.split(","))


def direct_members_of(user_ids: Iterable[int]) -> str:
    """The canonical form of a set of people: their ids sorted, comma-separated."""
    return ",".join(str(user_id) for user_id in sorted(set(user_ids)))


def message_from(row: Any, user: User | None = None) -> Message:
    m = row._mapping
    return Message(
        id=m["id"],
        room_id=m["room_id"],
        seq=m["seq"],
        user=user if user is not None else user_from(row, "u_"),
        message_text=m["message_text"],
        message_content=content_from(m["message_content"], m["content_is_json"]),
        client_msg_id=m["client_msg_id"],
        created_at=m["created_at"],
        edited_at=m["edited_at"],
        deleted_at=m["deleted_at"],
        thread_root_id=m["thread_root_id"],
        thread=_thread(m),
        mentions=ids_from(m["mentions"]),
        mentions_room=bool(m["mentions_room"]),
    )


def _thread(m: Any) -> Thread | None:
    if not m["reply_count"]:
        return None
    return Thread(m["reply_count"], m["last_reply_at"], ids_from(m["thread_participants"]))


def ids_from(stored: str | None) -> tuple[int, ...]:
    """Ids stored comma-separated ("3,7,12"); none for null or ""."""
    if not stored:
        return ()
    return tuple(int(part) for part in stored.split(","))


def ids_of(user_ids: Iterable[int]) -> str:
    """Ids as a comma-separated column holds them, in the order given."""
    return ",".join(str(user_id) for user_id in user_ids)


def content_columns(content: Content) -> tuple[str | None, bool]:
    """``message_content`` as the messages table holds it: (text, content_is_json). An
    object is kept as its compact encoding, which gives it back key for key."""
    if isinstance(content, dict):
        return jsoncodec.dumps(content).decode(), True
    return content, False


def content_from(stored: str | None, is_json: bool) -> Content:
    """What ``content_columns`` stored, as its author sent it."""
    if stored is not None and is_json:
        found = jsoncodec.loads(stored)
        if isinstance(found, dict):
            return found
    return stored
