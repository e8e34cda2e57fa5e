"""Threads: replies to a top-level message, following them, and their unread replies.

A reply is a message with ``thread_root_id`` set (domain/messages.py sends it, on the
room's seq, as ``new_room_chat_message``); its transaction moves the root's ``thread``
summary and records ``room_chat_thread_updated`` (store/recorder.py). Here: what a root
must be, a thread's page, following, and a follower's read position.

What a root id may name, for a reply and for following: a top-level message of the
same room, not deleted. A reply's id is a ``validation_error`` (threads do not nest);
a deleted root, or an id that names no message of the room (none at all, or another
room's: the answer does not tell them apart), is ``not_found``. Reading a thread (its
page, marking it read) works for a deleted root too: its replies stay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from roomchat.domain.models import Message, MessagePage, User
from roomchat.domain.ports import Storage
from roomchat.domain.records import FollowedThread, RootState, ThreadPosition
from roomchat.domain.rooms import RoomService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.errors import ChatError, Code, forbidden, not_found

THREAD_PAGE = 100  # messages of a thread per page, at most
FOLLOWED_PAGE = 100  # followed threads listed at once, at most


def refusal(state: RootState, *, reading: bool = False) -> ChatError | None:
    """What answers a root in ``state`` (None: it will do). ``reading``: a deleted
    root's thread may still be read."""
    if state is RootState.REPLY:
        return ChatError(
            Code.VALIDATION_ERROR, "thread_root_id names a reply: reply to its thread's root"
        )
    if state is RootState.MISSING or (state is RootState.DELETED and not reading):
        return not_found("thread root")
    return None


class ThreadService:
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
        # A followed thread's root shows its attachments with URLs minted afresh.
        self._mint = mint

    async def check_root(self, room_id: int, root_id: int, *, reading: bool = False) -> None:
        """Refuse a root that is not one (the caller checked the room's membership)."""
        found = refusal(await self._store.threads.root_state(room_id, root_id), reading=reading)
        if found is not None:
            raise found

    async def page(
        self, user: User, room_id: int, root_id: int, after_seq: int, limit: int
    ) -> MessagePage:
        """The thread after ``after_seq``, oldest first: its root (first, when
        ``after_seq`` is before it), then its replies."""
        if not 1 <= limit <= THREAD_PAGE:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{THREAD_PAGE}")
        await self._rooms.require_room_member(user, room_id)
        await self.check_root(room_id, root_id, reading=True)
        return await self._store.threads.page(room_id, root_id, after_seq, limit)

    async def follow(
        self, user: User, room_id: int, root_id: int, following: bool
    ) -> ThreadPosition:
        """Follow a thread (its unread replies count), or stop: a choice that stays
        until one's own reply or follow_thread."""
        await self._rooms.require_room_member(user, room_id)
        await self.check_root(room_id, root_id)
        found = await self._store.threads.set_following(room_id, root_id, user.id, following)
        if found is None:  # deleted since the check
            raise not_found("thread root")
        return found

    async def mark_read(self, user: User, room_id: int, root_id: int, seq: int) -> ThreadPosition:
        """Read the thread up to ``seq`` (clamped to the room's seq); never backwards."""
        await self._rooms.require_room_member(user, room_id)
        await self.check_root(room_id, root_id, reading=True)
        found = await self._store.threads.mark_read(room_id, root_id, user.id, seq)
        if found is None:  # the room went since the membership check
            raise forbidden("join the room first")
        return found

    async def followed(
        self, user: User, workspace_id: int, limit: int
    ) -> tuple[list[FollowedThread], bool]:
        """The threads the caller follows in the workspace's rooms they are in, newest
        activity first; and whether more follow."""
        if not 1 <= limit <= FOLLOWED_PAGE:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{FOLLOWED_PAGE}")
        await self._workspaces.require_member(user, workspace_id)
        found, more = await self._store.threads.followed(user.id, workspace_id, limit)
        return [dataclasses.replace(t, root=self._mint(t.root)) for t in found], more
