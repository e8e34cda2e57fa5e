"""The rooms this instance follows, each with its channel: the connections joined to
it and where its events stand.

A channel outlives its last member for a while (resting: at most ``REST_ROOMS``, each
for up to ``REST_S``), still following the room's events: joining the room again then
needs no database read to learn where it stands.

Only the hub (realtime/hub.py) changes who is in a channel; presence reads and speaks
through this registry too (``joined_here``, ``pass_on``), which is why it stands apart
from the hub: both are given it when they are built, and the hub is given presence.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.realtime.connection import Connection
from roomchat.realtime.ordering import SeqOrder

# Channels kept after their last member left (no setting: each costs a few hundred
# bytes and one seq comparison per event of its room).
REST_ROOMS = 10_000
REST_S = 600.0


class RoomChannel:
    __slots__ = (
        "gap_task",
        "leaving",
        "members",
        "opening",
        "order",
        "pending",
        "ready",
        "resting",
        "room_id",
        "stored_at_last_sweep",
    )

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        # Each joined connection, with the last seq its join reply held: a message
        # stored before the reply's history read but handed to the hub after it must
        # not reach that connection a second time.
        self.members: dict[Connection, int] = {}
        self.pending: dict[Connection, list[RoomEvent]] = {}
        # Joining connections that were sent away meanwhile: they leave once the join
        # reply and the event that sent them away went out.
        self.leaving: set[Connection] = set()
        self.order: SeqOrder[RoomEvent] = SeqOrder()
        self.resting = False  # nobody here is joined; still following the room
        self.gap_task: asyncio.Task[None] | None = None
        self.opening: asyncio.Task[None] | None = None
        self.stored_at_last_sweep = 0
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def empty(self) -> bool:
        return not self.members and not self.pending

    def pass_on(self, signal: RoomSignal) -> None:
        frame = signal.frame
        for conn in self.members:
            if conn.user.id != signal.sender_id:
                conn.send(frame)


class Channels:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        rest_rooms: int = REST_ROOMS,
        rest_s: float = REST_S,
    ) -> None:
        # Every channel by room, resting or not (the hub reads it once per event).
        self.by_room: dict[int, RoomChannel] = {}
        # The resting ones, oldest first, with when their last member left.
        self._resting: OrderedDict[int, float] = OrderedDict()
        self._clock = clock
        self._rest_rooms = rest_rooms
        self._rest_s = rest_s

    @property
    def joined_count(self) -> int:
        """Rooms with a connection here joined (or joining)."""
        return len(self.by_room) - len(self._resting)

    def joined_here(self, room_id: int) -> bool:
        """Whether a connection here is joined (or joining) to the room."""
        channel = self.by_room.get(room_id)
        return channel is not None and not channel.resting

    def pass_on(self, signal: RoomSignal) -> None:
        """A room's signal, to the connections here joined to it."""
        channel = self.by_room.get(signal.room_id)
        if channel is not None:
            channel.pass_on(signal)

    def add(self, room_id: int) -> RoomChannel:
        channel = self.by_room[room_id] = RoomChannel(room_id)
        return channel

    def wake(self, channel: RoomChannel) -> None:
        """Someone joins a resting channel."""
        if channel.resting:
            channel.resting = False
            self._resting.pop(channel.room_id, None)

    def rest(self, channel: RoomChannel) -> None:
        """Keep an empty channel following its room, unless it cannot be trusted to."""
        if not channel.order.started or channel.order.held or channel.gap_task is not None:
            self.discard(channel.room_id)
            return
        now = self._clock()
        channel.resting = True
        self._resting[channel.room_id] = now
        while self._resting:
            oldest, since = next(iter(self._resting.items()))
            if len(self._resting) <= self._rest_rooms and now - since <= self._rest_s:
                break
            self.discard(oldest)

    def discard(self, room_id: int) -> None:
        self._resting.pop(room_id, None)
        channel = self.by_room.pop(room_id, None)
        if channel is None:
            return
        channel.resting = False  # counted as any channel while it drains what it holds
        if channel.gap_task is not None:
            channel.gap_task.cancel()

    def forget(self, channel: RoomChannel) -> None:
        """A channel that never opened: gone, unless a new one took its place."""
        if self.by_room.get(channel.room_id) is channel:
            del self.by_room[channel.room_id]
