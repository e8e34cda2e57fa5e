"""Each room's durable events to the application exactly once, in seq order, whatever
the mix of live broadcasts, catch-up replies and event-log pages they came by."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from roomchat.client.backoff import Backoff
from roomchat.client.errors import ClientClosed, RequestError
from roomchat.client.events import (
    Event,
    MemberLeft,
    RoomAccessLost,
    RoomDeleted,
    parse_event,
    room_position,
)
from roomchat.client.fields import JSONObject, boolean, integer, objects
from roomchat.client.inbox import Inbox
from roomchat.client.rest import EventPage

log = logging.getLogger(__name__)

# (room_id, after_seq) -> a page of the room's event log (GET .../events)
PageReader = Callable[[int, int], Awaitable[EventPage]]

# A page read from the log answered with these: we can no longer read the room.
_ACCESS_LOST = frozenset({"forbidden", "not_found"})


@dataclass
class RoomCursor:
    """Where the application stands in one room."""

    room_id: int
    applied: int  # the last seq handed over; what a reconnect joins with (after_seq)
    newest_seen: int = 0  # the highest seq known to exist, from broadcasts and replies
    must_page: bool = False  # a catch-up reply said has_more: page the log to its end
    repairing: bool = False  # a task is reading the log; it alone hands events over

    @property
    def behind(self) -> bool:
        return self.must_page or self.applied < self.newest_seen


class RoomSequencer:
    """Keeps a cursor per followed room, and hands each event over once, in order.

    An event is handed over only when it is the next one (``applied + 1``) and the inbox
    has room. Anything else (a gap, a full inbox, a catch-up with ``has_more``) makes the
    room *behind*: a repair task then reads the room's event log from ``applied`` at the
    application's pace until it has caught up with everything seen, while broadcasts of
    that room are dropped (the log has them). Nothing is held in memory but one page.
    """

    def __init__(self, inbox: Inbox, read_page: PageReader, backoff: Callable[[], Backoff]) -> None:
        self.me: int | None = None  # our user id: a room_member_left about us ends a room
        self._inbox = inbox
        self._read_page = read_page
        self._backoff = backoff
        self._rooms: dict[int, RoomCursor] = {}
        self._repairs: dict[int, asyncio.Task[None]] = {}

    def followed(self) -> list[int]:
        return list(self._rooms)

    def position(self, room_id: int) -> int | None:
        """The last seq of the room handed over, None for a room not followed."""
        cursor = self._rooms.get(room_id)
        return None if cursor is None else cursor.applied

    def follow(self, room_id: int, seq: int) -> None:
        """A join reply without ``after_seq``: the room stands at ``seq``, history shown."""
        cursor = self._rooms.get(room_id)
        if cursor is None:
            self._rooms[room_id] = RoomCursor(room_id, applied=seq, newest_seen=seq)
        else:  # joined again while followed: only what is past it is new
            self._saw(cursor, seq)

    def forget(self, room_id: int) -> None:
        self._rooms.pop(room_id, None)
        repair = self._repairs.pop(room_id, None)
        if repair is not None and repair is not asyncio.current_task():
            repair.cancel()

    def on_broadcast(self, frame: Mapping[str, Any]) -> bool:
        """A broadcast frame; False when it is not a room event (a signal)."""
        position = room_position(frame)
        if position is None:
            return False
        self._offer(*position, frame)
        return True

    def on_catch_up(self, room_id: int, after_seq: int, data: JSONObject) -> None:
        """A join reply with ``after_seq``: its events, then (``has_more``) the log."""
        cursor = self._rooms.setdefault(room_id, RoomCursor(room_id, after_seq, after_seq))
        for event in objects(data, "events"):
            position = room_position(event)
            if position is not None and position[0] == room_id:
                self._offer(room_id, position[1], event)
        if boolean(data, "has_more"):
            cursor.must_page = True
            self._repair(cursor)
        else:
            # Nothing past the reply's seq that it does not hold: that is where the room is.
            self._saw(cursor, integer(data, "seq"))

    async def close(self) -> None:
        repairs = list(self._repairs.values())
        self._repairs.clear()
        for repair in repairs:
            repair.cancel()
        for repair in repairs:
            with contextlib.suppress(asyncio.CancelledError):
                await repair

    def _offer(self, room_id: int, seq: int, frame: Mapping[str, Any]) -> None:
        cursor = self._rooms.get(room_id)
        if cursor is None or seq <= cursor.applied:
            return  # a room we do not follow, or one we already handed over
        cursor.newest_seen = max(cursor.newest_seen, seq)
        if cursor.repairing:
            return  # the repair reads it from the log, in order
        event = parse_event(frame)
        if seq != cursor.applied + 1 or not self._inbox.offer(event):
            self._repair(cursor)
            return
        cursor.applied = seq
        self._after(cursor, event)

    def _saw(self, cursor: RoomCursor, seq: int) -> None:
        cursor.newest_seen = max(cursor.newest_seen, seq)
        if cursor.behind:
            self._repair(cursor)

    def _after(self, cursor: RoomCursor, event: Event) -> None:
        """The server stops sending a room we left, were removed from, or that is gone."""
        ours = isinstance(event, MemberLeft) and event.user_id == self.me
        if ours or isinstance(event, RoomDeleted):
            self.forget(cursor.room_id)

    def _repair(self, cursor: RoomCursor) -> None:
        if cursor.repairing:
            return
        cursor.repairing = True
        task = asyncio.create_task(self._read_log(cursor), name=f"roomchat-repair-{cursor.room_id}")
        self._repairs[cursor.room_id] = task

    async def _read_log(self, cursor: RoomCursor) -> None:
        pause = self._backoff()
        try:
            while cursor.behind and self._rooms.get(cursor.room_id) is cursor:
                log.debug("room %s: reading the event log after %s", cursor.room_id, cursor.applied)
                try:
                    page = await self._read_page(cursor.room_id, cursor.applied)
                except RequestError as refused:
                    if refused.code in _ACCESS_LOST:
                        self.forget(cursor.room_id)
                        lost = RoomAccessLost(cursor.room_id, refused.code, refused.message)
                        self._inbox.offer_signal(lost)
                    else:  # a request of ours the server finds wrong: retrying cannot help
                        log.error("room %s: reading the event log: %s", cursor.room_id, refused)
                    return
                except (ClientClosed, asyncio.CancelledError):
                    raise
                except Exception as away:  # the server or the network: try again later
                    log.debug("room %s: reading the event log: %r", cursor.room_id, away)
                    await asyncio.sleep(pause.next_delay())
                    continue
                progress = await self._hand_over(cursor, page)
                if not page.has_more:
                    cursor.must_page = False
                if progress:
                    pause.reset()
                elif cursor.behind:  # seen, but not in the log yet: no busy loop
                    await asyncio.sleep(pause.next_delay())
        finally:
            cursor.repairing = False
            if self._repairs.get(cursor.room_id) is asyncio.current_task():
                del self._repairs[cursor.room_id]

    async def _hand_over(self, cursor: RoomCursor, page: EventPage) -> bool:
        progress = False
        for item in page.events:
            position = room_position(item)
            if position is None or position[1] <= cursor.applied:
                continue
            event = parse_event(item)
            await self._inbox.put(event)  # the application's pace: memory stays bounded
            cursor.applied = position[1]
            cursor.newest_seen = max(cursor.newest_seen, cursor.applied)
            progress = True
            self._after(cursor, event)
            if self._rooms.get(cursor.room_id) is not cursor:
                break
        return progress
