"""The in-memory bus: one instance, so no one else to carry events to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roomchat.bus.base import OnEvent, OnSignal
from roomchat.domain.events import RoomEvent, RoomSignal


class MemoryBus:
    shared = False

    async def start(self, on_event: OnEvent, on_signal: OnSignal) -> None:
        return None

    async def publish(self, events: Sequence[RoomEvent]) -> None:
        return None  # this instance's hub has them already

    def signal(self, signal: RoomSignal) -> None:
        return None

    def is_up(self) -> bool:
        return True

    async def until_up(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"ok": True, "kind": "memory"}
