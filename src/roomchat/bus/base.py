"""The bus carries room events and signals between instances: a transport, nothing more.

Durable events come to it from the outbox relay (``publish`` returns once the
transport has them); signals come straight from the handlers (``signal`` never
waits, and may drop them). Which bus runs is the app's choice; no one else knows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from roomchat.domain.events import RoomEvent, RoomSignal

OnEvent = Callable[[RoomEvent], None]
OnSignal = Callable[[RoomSignal], None]


class BusError(Exception):
    """A bus failure; ``retriable`` says whether trying again may succeed."""

    def __init__(self, message: str, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable


class Bus(Protocol):
    # True when other instances hear this bus: durable events then go through the
    # outbox, so that one stored while the bus is down still goes out once it is back.
    shared: bool

    async def start(self, on_event: OnEvent, on_signal: OnSignal) -> None:
        """Begin consuming; every event and signal is handed over, this instance's own too."""

    async def publish(self, events: Sequence[RoomEvent]) -> None:
        """Send in order; return once the transport has them all, else raise BusError
        (and count as down until the transport takes events again)."""

    def signal(self, signal: RoomSignal) -> None:
        """Hand a signal over without waiting; it may be dropped."""

    def is_up(self) -> bool:
        """The transport takes events now."""

    async def until_up(self) -> None:
        """Until ``is_up()``."""

    async def close(self) -> None: ...

    def health(self) -> dict[str, Any]:
        """{"ok": bool, ...details for /readyz}."""
