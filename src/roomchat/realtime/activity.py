"""Sidebar activity: ``room_activity`` for the rooms of followed workspaces.

A client shows badges for every room of a workspace, but a connection only gets the
broadcasts of the rooms it joined. A connection that follows a workspace
(``subscribe_workspace``) gets, for each room there its user is a member of, a
small ``room_activity`` {room_id, seq, unread_count, last_message} when a message is
stored, edited or deleted in it, whichever instance stored it.

Each instance hears every room event already (the bus); this turns them into
activity for its own followers. Per room, activity is coalesced: at most one flush
per interval, always with the room's latest seq, so a busy room costs two queries
per interval (the followers' read positions, the newest message) whatever its rate,
and an instance with no followers does nothing at all.

Per room, activity only goes forward (docs/protocol.md): listeners hear events as
the bus brings them, so one stored elsewhere before the newest heard here may come
after it, and the bus may repeat itself or read a partition again. Each room's
highest seq taken is kept, and an event at or below it is no news: the activity
already sent or pending was read after it was stored. The marks are kept for the
``_MAX_REMEMBERED`` rooms that moved last.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from roomchat import frames, jsoncodec
from roomchat.domain.events import RoomEvent
from roomchat.domain.kinds import ACTIVITY, MOVES_ACTIVITY
from roomchat.domain.models import Message
from roomchat.domain.ports import ReadRows
from roomchat.realtime.hub import Hub

log = logging.getLogger(__name__)

_MAX_REMEMBERED = 100_000  # rooms whose workspace, and whose highest seq, is kept in memory


class Activity:
    def __init__(
        self,
        hub: Hub,
        reads: ReadRows,
        mint: Callable[[Message], Message],
        interval_s: float = 0.25,
    ) -> None:
        self._hub = hub
        self._reads = reads
        self._mint = mint  # the last message's attachment URLs, minted afresh
        self._interval = interval_s
        self._workspace_of: dict[int, int] = {}  # rooms never change workspace
        self._pending: dict[int, int] = {}  # room_id -> newest seq not yet flushed
        # room_id -> the highest seq taken (sent or pending), the room moved last at the end
        self._taken: OrderedDict[int, int] = OrderedDict()
        self._flushing: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Stop the rooms' pending flushes (nobody is left to tell at shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def heard(self, event: RoomEvent) -> None:
        """A room event this instance heard (Fanout listener)."""
        if event.action not in MOVES_ACTIVITY or not self._hub.followed:
            return
        room_id = event.room_id
        if event.seq <= self._taken.get(room_id, 0):
            return  # heard late or again: activity at or past it went out, or will
        self._taken[room_id] = event.seq
        self._taken.move_to_end(room_id)
        if len(self._taken) > _MAX_REMEMBERED:
            self._taken.popitem(last=False)
        self._pending[room_id] = event.seq
        if room_id not in self._flushing:
            self._flushing.add(room_id)
            task = asyncio.create_task(self._flush(room_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush(self, room_id: int) -> None:
        """Send the room's activity, then at most once per interval while more comes."""
        try:
            while room_id in self._pending:
                seq = self._pending.pop(room_id)
                try:
                    await self._send(room_id, seq)
                except Exception:
                    log.exception("room %s: sending activity failed", room_id)
                await asyncio.sleep(self._interval)
        finally:
            self._flushing.discard(room_id)

    async def _send(self, room_id: int, seq: int) -> None:
        workspace_id = self._workspace_of.get(room_id)
        if workspace_id is None:
            found = await self._reads.workspace_of(room_id)
            if found is None:
                return
            if len(self._workspace_of) >= _MAX_REMEMBERED:
                self._workspace_of.clear()  # a cache: bounded, and cheap to fill again
            workspace_id = self._workspace_of[room_id] = found
        followers = list(self._hub.followers(workspace_id))
        if not followers:
            return
        positions = await self._reads.of_members(room_id, {c.user.id for c in followers})
        if not positions:
            return
        last = (await self._reads.last_messages([room_id])).get(room_id)
        last_message = jsoncodec.dumps(self._mint(last).state_dict()) if last is not None else None
        built: dict[int, bytes] = {}  # per user: their unread count is theirs
        for conn in followers:
            position = positions.get(conn.user.id)
            if position is None:
                continue  # not a member of this room
            frame = built.get(conn.user.id)
            if frame is None:
                data = frames.activity_data(
                    room_id,
                    seq,
                    position.unread_count,
                    last_message,
                    position.thread_unread,
                    position.mention_count,
                )
                frame = built[conn.user.id] = frames.broadcast(ACTIVITY, data)
            conn.send(frame)
