"""Turning result rows into domain records."""

from __future__ import annotations

from typing import Any

from roomchat import jsoncodec
from roomchat.domain.models import Content, Message, Room, User
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
    )


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
    )


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
