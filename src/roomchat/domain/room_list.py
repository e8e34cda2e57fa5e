"""The room list, a page at a time (``GET /api/v1/room-chats/workspace/{id}``).

Rooms are listed by id. A page ends where the next one starts: its cursor names the
last room listed (and the workspace, so it pages that list only), so pages neither
repeat nor skip a room, whatever is made or deleted in between. The cursor is opaque
to clients; only this module reads it.
"""

from __future__ import annotations

import base64
import binascii
import re

from roomchat.domain.models import MAX_ID
from roomchat.errors import ChatError, Code

# The default page and the largest: as many rooms as a workspace may have by default,
# so a plain call lists every room of a workspace within the default bounds.
ROOM_PAGE = 1000
MAX_CURSOR_CHARS = 64
_CURSOR = re.compile(r"rooms:([1-9][0-9]{0,18}):([1-9][0-9]{0,18})")


def cursor_after(workspace_id: int, room_id: int) -> str:
    """The cursor of the page that starts after ``room_id``."""
    raw = f"rooms:{workspace_id}:{room_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def position(cursor: str, workspace_id: int) -> int:
    """The room a cursor of this workspace's list names; validation_error for anything
    else (not ours, damaged, or another list's)."""
    bad = ChatError(Code.VALIDATION_ERROR, "cursor is not one this list gave")
    if not 1 <= len(cursor) <= MAX_CURSOR_CHARS:
        raise bad
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad from None
    found = _CURSOR.fullmatch(raw)
    if found is None or int(found[1]) != workspace_id or int(found[2]) > MAX_ID:
        raise bad
    return int(found[2])
