"""The in-memory bus: one process, one instance (or several apps in one process, in tests)."""

from __future__ import annotations

import asyncio
from typing import Any

from roomchat.bus.base import Deliver
from roomchat.domain.events import RoomEvent


class MemoryBroker:
    """What several MemoryBus instances in one process share, like a tiny Kafka topic."""

    def __init__(self) -> None:
        self.subscribers: list[Deliver] = []


class MemoryBus:
    uses_outbox = False

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self._broker = broker or MemoryBroker()
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._broker.subscribers.append(deliver)

    def publish(self, event: RoomEvent) -> None:
        loop = asyncio.get_running_loop()
        for deliver in self._broker.subscribers:
            # Later, not now: like a real bus, delivery never re-enters the publisher.
            loop.call_soon(deliver, event)

    async def close(self) -> None:
        if self._deliver in self._broker.subscribers:
            self._broker.subscribers.remove(self._deliver)

    def health(self) -> dict[str, Any]:
        return {"ok": True, "kind": "memory"}
