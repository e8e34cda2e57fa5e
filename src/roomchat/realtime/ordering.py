"""A room's durable events in seq order, exactly once: the hub's core, without I/O.

Offer it each event as it comes (live, from the bus, read back from the database), in
any order and as often as it comes; it says whether the event goes out now, and keeps
the early ones until the events before them were offered. It never waits, reads or
sends anything: asking the database for a missing range, and when, is the hub's job
(realtime/hub.py), as websockets' ``protocol.py`` leaves the sockets to its callers.
So it is tested with plain objects, no event loop and no database.

Its life: ``start(last_seq)`` once the room's seq counter is known (everything at or
below it was stored before, so every joiner's history holds it), then ``offer`` for
every event. Events offered before ``start`` wait for it.
"""

from __future__ import annotations

from enum import Enum
from typing import Generic, Protocol, TypeVar


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


E = TypeVar("E", bound=Sequenced)


class Offered(Enum):
    """What became of an offered event."""

    NEXT = "next"  # deliver it now; then, while ``held``, each ``next_held()``
    REPEAT = "repeat"  # delivered already, or older than where the room stood: drop it
    EARLY = "early"  # kept: events before it are missing (``missing()``)
    WAITING = "waiting"  # kept until ``start()`` says where the room stands


NEXT, REPEAT, EARLY, WAITING = Offered.NEXT, Offered.REPEAT, Offered.EARLY, Offered.WAITING


class SeqOrder(Generic[E]):
    """One room's order: the highest seq delivered, and the events kept until their turn."""

    __slots__ = ("delivered", "held")

    def __init__(self) -> None:
        # The highest seq delivered (or stored before the start); None until started.
        self.delivered: int | None = None
        # The events kept, by seq (read it, never change it: ``offer`` and
        # ``next_held`` do). Empty most of the time: the hub checks it per event.
        self.held: dict[int, E] = {}

    @property
    def started(self) -> bool:
        return self.delivered is not None

    def start(self, last_seq: int) -> None:
        """The room's seq counter as it stood when the channel opened; what was held
        at or below it is dropped (stored before: a joiner's history holds it). Then
        take ``next_held()`` while it gives events."""
        self.delivered = last_seq
        for seq in [seq for seq in self.held if seq <= last_seq]:
            del self.held[seq]

    def offer(self, event: E) -> Offered:
        delivered = self.delivered
        seq = event.seq
        if delivered is None:
            self.held[seq] = event
            return WAITING
        if seq <= delivered:
            return REPEAT
        if seq > delivered + 1:
            self.held[seq] = event
            return EARLY
        self.delivered = seq
        return NEXT

    def next_held(self) -> E | None:
        """The kept event that is now next in order (counted as delivered), or None."""
        if self.delivered is None:
            return None
        following = self.held.pop(self.delivered + 1, None)
        if following is not None:
            self.delivered = following.seq
        return following

    def missing(self) -> tuple[int, int] | None:
        """The seq range that keeps the first held event waiting, or None (no gap)."""
        if self.delivered is None or not self.held:
            return None
        first, last = self.delivered + 1, min(self.held) - 1
        return (first, last) if first <= last else None
