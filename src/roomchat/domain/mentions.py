"""Mentions: which room members a message's text mentions, and telling them.

``@username`` names a member: the name is read as usernames are (NFKC, any case) and
matched by its look-alike key (domain/names.py, ``username_skeleton``), so "@Bob",
"@ＢＯＢ" and "@b0b" all name bob, and a trailing "." or "-" ends a sentence rather
than the name ("@bob."). A name that is not a room member's resolves to nothing.
``@room`` mentions every member; in a room of more than ``ROOM_MENTION_OPEN_UP_TO``
members only those who manage the room may: its creator, the workspace's owner, its
admins and bots (domain/roles.py ``manages_room``; from anyone else the text stays and
nobody is mentioned). The author is never mentioned to themselves.

Resolving costs a read only when the text holds an "@": sending plain text (the hot
path) is untouched. A mentioned member gets ``room_chat_mention`` {room_id, seq,
message} on every connection of theirs on every instance (a signal addressed to the
user, as ``room_read_updated`` is), once per message: an edit announces only the
members it mentions for the first time (store/mentions.py keeps who was).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from roomchat.domain.events import RoomSignal
from roomchat.domain.kinds import MENTION
from roomchat.domain.models import Message, Room, User
from roomchat.domain.names import username_skeleton
from roomchat.domain.ports import Storage
from roomchat.domain.records import NO_MENTIONS, Mentioned
from roomchat.domain.roles import manages_room
from roomchat.frames import broadcast, mention_data

# Names of one message resolved at most (the first ones): bounds the read and the rows.
MAX_NAMED = 50
# Up to this many members anyone may mention the room; past it, those who manage it.
ROOM_MENTION_OPEN_UP_TO = 50
ROOM_WORD = "room"

# "@" not inside a word or an address ("a@b.c" mentions nobody), then a username's
# characters; the length is checked once a trailing "." or "-" is set apart.
_NAME = re.compile(r"(?<![0-9A-Za-z_.@-])@([0-9A-Za-z_.-]+)")
_SENTENCE_END = "._-"


def names_in(text: str) -> tuple[list[tuple[str, str | None]], bool]:
    """The names a text mentions, each as its look-alike keys (the name as written, and
    without a trailing "." "-" or "_" when it has one: tried second), at most
    ``MAX_NAMED``, first ones first; and whether it mentions the room."""
    found: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    room = False
    for match in _NAME.finditer(unicodedata.normalize("NFKC", text)):
        name = match[1]
        if name.lower() == ROOM_WORD:
            room = True
            continue
        trimmed = name.rstrip(_SENTENCE_END)
        keys = [k for k in (name, trimmed) if 3 <= len(k) <= 32]
        if not keys:
            continue
        full = username_skeleton(keys[0])
        if full in seen:
            continue
        seen.add(full)
        second = username_skeleton(keys[1]) if len(keys) > 1 and keys[1] != keys[0] else None
        found.append((full, second))
        if len(found) == MAX_NAMED:
            break
    return found, room


class Mentions:
    def __init__(self, store: Storage, origin: str) -> None:
        self._store = store
        self._origin = origin

    async def resolve(self, author: User, room: Room, text: str) -> Mentioned:
        """Whom ``text`` mentions among the room's members."""
        if "@" not in text:
            return NO_MENTIONS
        names, room_word = names_in(text)
        named: list[int] = []
        if names:
            keys = {key for pair in names for key in pair if key is not None}
            members = await self._store.rooms.members_by_key(room.id, keys)
            for full, trimmed in names:
                user_id = members.get(full)
                if user_id is None and trimmed is not None:
                    user_id = members.get(trimmed)
                if user_id is not None and user_id != author.id and user_id not in named:
                    named.append(user_id)
        everyone: list[int] = []
        if room_word:
            everyone = await self._store.rooms.member_ids(room.id)
            if len(everyone) > ROOM_MENTION_OPEN_UP_TO and not await self._may_mention_all(
                author, room
            ):
                everyone = []
        mentioned = (set(named) | set(everyone)) - {author.id}
        return Mentioned(tuple(named), bool(everyone), tuple(sorted(mentioned)))

    async def _may_mention_all(self, author: User, room: Room) -> bool:
        if author.id == room.created_by:
            return True
        role = await self._store.workspaces.role(room.workspace_id, author.id)
        return manages_room(author.id, room.created_by, role)

    def signals(
        self, message: Message, data: bytes, user_ids: Iterable[int]
    ) -> tuple[RoomSignal, ...]:
        """``room_chat_mention`` to each of ``user_ids`` (``data``: the message, encoded)."""
        # One frame for all of them: the same bytes to every mentioned member.
        frame = broadcast(MENTION, mention_data(message.room_id, message.seq, data))
        return tuple(
            RoomSignal(message.room_id, message.user.id, self._origin, frame, to_user=user_id)
            for user_id in user_ids
        )
