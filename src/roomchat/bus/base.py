"""The bus carries room events between instances; the gateway never knows which one runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from roomchat.domain.events import RoomEvent

Deliver = Callable[[RoomEvent], None]


class BusError(Exception):
    """A bus failure; ``retriable`` says whether trying again may succeed."""

    def __init__(self, message: str, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable


class Bus(Protocol):
    # True when message events must be written to the outbox with the message, so
    # that a message stored while the bus is down still goes out once it is back.
    uses_outbox: bool

    async def start(self, deliver: Deliver) -> None:
        """Begin consuming; ``deliver`` gets every event, this instance's own included."""

    def publish(self, event: RoomEvent) -> None:
        """Hand an event over without waiting; messages are never dropped, typing may be."""

    async def close(self) -> None: ...

    def health(self) -> dict[str, Any]:
        """{"ok": bool, ...details for /readyz}."""
