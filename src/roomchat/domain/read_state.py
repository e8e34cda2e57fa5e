"""Read state: marking rooms read, unread counts for the sidebar, and "seen by".

Every check is the one sending passes: the caller must be a member of the room (of
its workspace for the workspace summary); another workspace's rooms are forbidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roomchat.domain.models import Message, RoomView, User
from roomchat.domain.ports import Storage
from roomchat.domain.records import ReadPosition
from roomchat.domain.room_list import cursor_after
from roomchat.domain.rooms import RoomService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import forbidden, not_found


@dataclass(frozen=True, slots=True)
class RoomListEntry:
    """A room of the list, with the caller's read state when they are a member."""

    view: RoomView
    position: ReadPosition | None
    last_message: Message | None

    def to_dict(self, public_base_url: str) -> dict[str, Any]:
        listed = self.view.to_dict(public_base_url)
        position = self.position
        listed["last_read_seq"] = position.last_read_seq if position else None
        listed["unread_count"] = position.unread_count if position else None
        listed["thread_unread"] = position.thread_unread if position else None
        listed["mention_count"] = position.mention_count if position else None
        last = self.last_message
        listed["last_message"] = last.state_dict() if last and position else None
        return listed


@dataclass(frozen=True, slots=True)
class RoomListPage:
    entries: list[RoomListEntry]
    next_cursor: str | None  # None: this is the last page


class ReadState:
    def __init__(
        self,
        store: Storage,
        rooms: RoomService,
        workspaces: WorkspaceService,
        mint: Callable[[Message], Message],
    ) -> None:
        self._store = store
        self._rooms = rooms
        self._workspaces = workspaces
        # A last message's attachments get URLs minted afresh, as history's do.
        self._mint = mint

    async def mark_read(self, user: User, room_id: int, seq: int) -> ReadPosition:
        """Read up to ``seq`` (clamped to the room's seq); never moves backwards."""
        return await self._move(user, room_id, seq, backwards=False)

    async def mark_unread(self, user: User, room_id: int, seq: int) -> ReadPosition:
        """Unread from ``seq`` on: the position goes to ``seq - 1``, back if need be."""
        return await self._move(user, room_id, seq - 1, backwards=True)

    async def _move(self, user: User, room_id: int, seq: int, backwards: bool) -> ReadPosition:
        await self._rooms.require_room_member(user, room_id)
        position = await self._store.reads.move(room_id, user.id, seq, backwards=backwards)
        if position is None:  # left or deleted since the membership check
            raise forbidden("join the room first")
        return position

    async def position(self, user: User, room_id: int) -> ReadPosition | None:
        """Where the user stands in a room they are a member of (after a thread's read
        position or following changed, what their other devices' badges show); None
        when they are no longer a member."""
        found = await self._store.reads.positions(user.id, [room_id])
        return found.get(room_id)

    async def room_list(
        self, user: User, workspace_id: int, after: int, limit: int, kind: str | None = None
    ) -> RoomListPage:
        """Up to ``limit`` of the rooms the caller may see in the workspace after room
        ``after`` (``kind``: of that kind only); for those the caller is a member of,
        their read state and newest message (a few queries for the page, none per room)."""
        views = await self._rooms.in_workspace(user, workspace_id, after, limit + 1, kind)
        more = len(views) > limit
        views = views[:limit]
        mine = [v.room.id for v in views if v.is_member]
        positions = await self._store.reads.positions(user.id, mine)
        last = {
            room_id: self._mint(message)
            for room_id, message in (await self._store.reads.last_messages(mine)).items()
        }
        entries = [RoomListEntry(v, positions.get(v.room.id), last.get(v.room.id)) for v in views]
        next_cursor = cursor_after(workspace_id, views[-1].room.id) if more else None
        return RoomListPage(entries, next_cursor)

    async def unread(self, user: User, workspace_id: int) -> dict[str, Any]:
        """{rooms: [{room_id, unread_count, thread_unread, mention_count}], total,
        thread_unread, mentions} over the caller's rooms there (``total``: top-level
        messages; ``thread_unread``: the replies of the threads they follow;
        ``mentions``: the unread messages that mention them)."""
        await self._workspaces.require_member(user, workspace_id)
        positions = await self._store.reads.in_workspace(user.id, workspace_id)
        rooms = [
            {
                "room_id": p.room_id,
                "unread_count": p.unread_count,
                "thread_unread": p.thread_unread,
                "mention_count": p.mention_count,
            }
            for p in positions
        ]
        return {
            "rooms": rooms,
            "total": sum(p.unread_count for p in positions),
            "thread_unread": sum(p.thread_unread for p in positions),
            "mentions": sum(p.mention_count for p in positions),
        }

    async def readers(self, user: User, room_id: int, message_id: int) -> list[User]:
        await self._rooms.require_room_member(user, room_id)
        found = await self._store.reads.readers(room_id, message_id)
        if found is None:
            raise not_found("message")
        return found

    async def shares_receipts(self, user_id: int) -> bool:
        return await self._store.reads.shares_receipts(user_id)

    async def share_receipts(self, user: User, share: bool) -> None:
        await self._store.reads.set_share_receipts(user.id, share)
