"""The bounded queue between the socket and the application."""

from __future__ import annotations

import asyncio

from roomchat.client.errors import ClientClosed
from roomchat.client.events import Event


class Inbox:
    """Events waiting for the application: at most ``capacity`` of them.

    Full, it refuses rather than grows. A room event that does not fit is read again from
    the room's event log once there is room (``RoomSequencer``); a signal that does not
    fit is dropped (signals may be lost by contract) and counted in ``dropped_signals``.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.dropped_signals = 0
        # Bounded by offer() and put(), not by asyncio: the end marker (None) must always
        # fit, so that stopping never waits for the application nor drops an event.
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._taken = asyncio.Event()  # set by every get: wakes put() waiting for room
        self._end: BaseException | None = None

    def __len__(self) -> int:
        return self._queue.qsize()

    def has_room(self) -> bool:
        return self._end is None and self._queue.qsize() < self.capacity

    def offer(self, event: Event) -> bool:
        """Queue it if there is room now; False (and nothing queued) otherwise."""
        if not self.has_room():
            return False
        self._queue.put_nowait(event)
        return True

    def offer_signal(self, event: Event) -> None:
        if not self.offer(event):
            self.dropped_signals += 1

    async def put(self, event: Event) -> None:
        """Queue it, waiting for room: the application's pace."""
        while not self.has_room():
            if self._end is not None:
                raise ClientClosed("the client is closed")
            self._taken.clear()
            await self._taken.wait()
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        """The next event. Once the client stopped and what was queued before is taken,
        raises why it stopped (``ClientClosed`` after ``close()``)."""
        event = await self._queue.get()
        self._taken.set()
        if event is None:
            self._queue.put_nowait(None)  # the marker stays, for every later get
            assert self._end is not None
            raise self._end
        return event

    def end(self, reason: BaseException) -> None:
        """No more events: ``get`` raises ``reason`` after what is already queued."""
        if self._end is not None:
            return
        self._end = reason
        self._queue.put_nowait(None)
        self._taken.set()
