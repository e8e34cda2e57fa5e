"""Replaying a room's stored events, exactly as they were broadcast.

The hub reads the log to fill gaps in live delivery (it is the hub's ``RoomLog``);
clients page it after a reconnect (``GET /api/v1/room-chats/{room_id}/events``).
Both rebuild from the event log's ``action`` and ``data`` with the functions that
built the live broadcast, so a replayed event is the broadcast, byte for byte,
whatever its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from roomchat.domain.events import RoomEvent
from roomchat.domain.messages import History
from roomchat.domain.models import User
from roomchat.domain.ports import Storage
from roomchat.domain.rooms import RoomService
from roomchat.errors import ChatError, Code
from roomchat.frames import event_item


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events oldest first, each encoded as ``{"action", "data"}``; ``has_more``: newer
    ones follow (the page hit its limit or its byte cap)."""

    items: list[bytes]
    has_more: bool


class Replay:
    def __init__(
        self,
        store: Storage,
        rooms: RoomService,
        origin: str,
        max_bytes: int,
        page: int = 100,
        catch_up: int = 500,
        fresh: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """``fresh``: re-mints the attachments' URLs in an event's data
        (domain/attachments.py)."""
        self._store = store
        self._fresh = fresh or _same
        self._rooms = rooms
        self._origin = origin
        self._max_bytes = max_bytes  # of a page's or a join's encoded events
        self.page_limit = page
        self._catch_up = catch_up  # events in a join reply

    async def last_seq(self, room_id: int) -> int:
        return await self._store.rooms.last_seq(room_id)

    async def last_seqs(self, room_ids: list[int]) -> dict[int, int]:
        return await self._store.rooms.last_seqs(room_ids)

    async def events_between(self, room_id: int, first: int, last: int) -> list[RoomEvent]:
        """The room's events ``first``..``last``, rebuilt as they were broadcast."""
        found = await self._store.events.between(room_id, first, last)
        return [RoomEvent.build(e.room_id, e.seq, e.action, e.data, self._origin) for e in found]

    async def catch_up(self, room_id: int, after_seq: int) -> History:
        """A join with ``after_seq``: the room and its events after that seq, at most
        ``catch_up`` of them and the byte cap (``has_more``: page the rest by REST)."""
        async with self._store.snapshot() as snap:
            found = await snap.room(room_id)
            if found is None:
                raise ChatError(Code.NOT_FOUND, "room not found")
            room, room_seq = found
            items: list[bytes] = []
            budget, cursor = self._max_bytes, after_seq
            while len(items) < self._catch_up and cursor < room_seq:
                chunk = min(self._catch_up - len(items), self.page_limit)
                events = await snap.events_after(room_id, cursor, room_seq, chunk)
                if not events:
                    break  # the log ends early: only a log older than the counter would
                for event in events:
                    item = event_item(event.action, self._fresh(event.data))
                    budget -= len(item) + 1  # and its comma
                    if budget < 0 and items:
                        return History(room, items, cursor, has_more=True)
                    items.append(item)
                    cursor = event.seq
        if cursor < room_seq:
            return History(room, items, cursor, has_more=True)
        # Nothing (more) after it: the reply ends at the room's seq, also for an
        # after_seq past it, so that no later event is held back from this client.
        return History(room, items, room_seq, has_more=False)

    async def page(self, user: User, room_id: int, after_seq: int, limit: int) -> EventPage:
        """The room's events after ``after_seq`` for a member: at most ``limit`` and the
        byte cap, but at least one when any follows (so paging always moves on)."""
        if not 1 <= limit <= self.page_limit:
            raise ChatError(Code.VALIDATION_ERROR, f"limit must be 1-{self.page_limit}")
        await self._rooms.require_room_member(user, room_id)
        found = await self._store.events.after(room_id, after_seq, limit + 1)
        items: list[bytes] = []
        budget = self._max_bytes
        for event in found[:limit]:
            item = event_item(event.action, self._fresh(event.data))
            budget -= len(item) + 1  # and its comma
            if budget < 0 and items:
                return EventPage(items, has_more=True)
            items.append(item)
        return EventPage(items, has_more=len(found) > limit)


def _same(data: bytes) -> bytes:
    return data
