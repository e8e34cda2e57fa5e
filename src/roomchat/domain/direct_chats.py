"""Direct conversations: a room of kind ``direct`` between a fixed set of a workspace's
members (``POST /api/v1/direct-chats/``).

There is one live conversation per set of people in a workspace: opening it again, by
anyone of the set and whatever the order of the ids, answers the same room. Its key is
the set's canonical form (the ids sorted) under a unique index, so concurrent opens of
the same set make one room (store/rooms.py, ``direct``). Everything else a room has
(messages, edits, reactions, threads, read state, receipts, typing, presence) works in
it unchanged; what differs is who may do what (domain/rooms.py): nobody joins it, is
added to it or removed from it, nobody outside it sees it, and it has no name, passcode
or link. Leaving the workspace ends one's part in it (store/workspaces.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from roomchat.domain.models import Room, User
from roomchat.domain.ports import Storage
from roomchat.domain.records import DirectRefused
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError, Code

# The other people of one conversation: a group direct message, not a room.
MAX_OTHERS = 8
# Conversations one member may open in one workspace (ROOMCHAT_DIRECT_CHATS_PER_CREATOR's
# default): bounds what one member can make the others' room lists hold.
DIRECT_PER_CREATOR = 1000


@dataclass(frozen=True, slots=True)
class Opened:
    room: Room
    created: bool  # False: the set's conversation existed already


class DirectChats:
    def __init__(
        self, store: Storage, workspaces: WorkspaceService, per_creator: int = DIRECT_PER_CREATOR
    ) -> None:
        self._store = store
        self._workspaces = workspaces
        self._per_creator = per_creator

    async def open(self, user: User, workspace_id: int, user_ids: Sequence[int]) -> Opened:
        """The conversation of the caller and ``user_ids`` (1 to 8 other members of the
        workspace), made if need be. Bad input changes nothing."""
        await self._workspaces.require_member(user, workspace_id)
        if not 1 <= len(user_ids) <= MAX_OTHERS:
            raise _invalid(f"user_ids must name 1 to {MAX_OTHERS} other members")
        if len(set(user_ids)) != len(user_ids):
            raise _invalid("user_ids must not repeat anyone")
        if user.id in user_ids:
            raise _invalid("user_ids are the others: leave yourself out")
        people = (user.id, *user_ids)
        try:
            room, created = await self._store.rooms.direct(
                workspace_id, user.id, people, secrets.token_urlsafe(24), self._per_creator
            )
        except DirectRefused as refused:
            if refused.not_members:
                # The same answer whether such a user exists elsewhere or not at all.
                raise _invalid("user_ids must all be members of the workspace") from None
            raise ChatError(
                Code.CONFLICT,
                f"you have opened {self._per_creator} direct conversations in this "
                "workspace, the most one member may",
            ) from None
        return Opened(room, created)


def _invalid(message: str) -> ChatError:
    return ChatError(Code.VALIDATION_ERROR, message)
