"""Where a room event goes: this instance's hub at once, other instances through the bus."""

from __future__ import annotations

from roomchat.bus.base import Bus
from roomchat.domain.events import RoomEvent
from roomchat.realtime.hub import Hub


class Fanout:
    def __init__(self, hub: Hub, bus: Bus, instance_id: str) -> None:
        self._hub = hub
        self._bus = bus
        self._instance_id = instance_id

    def publish(self, event: RoomEvent) -> None:
        self._hub.deliver(event)
        self._bus.publish(event)

    def from_bus(self, event: RoomEvent) -> None:
        if event.origin == self._instance_id:
            return  # delivered locally when it was sent
        self._hub.deliver(event)
