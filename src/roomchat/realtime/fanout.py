"""Where room events and signals go: this instance's hub at once, other instances
through the outbox relay (events) or straight through the bus (signals)."""

from __future__ import annotations

from collections.abc import Sequence

from roomchat.bus.base import Bus
from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.realtime.hub import Hub


class Fanout:
    def __init__(self, hub: Hub, bus: Bus, instance_id: str) -> None:
        self._hub = hub
        self._bus = bus
        self._instance_id = instance_id

    def publish(self, events: Sequence[RoomEvent]) -> None:
        """Committed events, to this instance's clients (the outbox relay, which took
        them at commit, carries them to the other instances)."""
        for event in events:
            self._hub.deliver(event)

    def signal(self, signal: RoomSignal) -> None:
        self._hub.signal(signal)
        self._bus.signal(signal)

    def event_from_bus(self, event: RoomEvent) -> None:
        if event.origin != self._instance_id:  # else delivered locally when it was stored
            self._hub.deliver(event)

    def signal_from_bus(self, signal: RoomSignal) -> None:
        if signal.origin != self._instance_id:
            self._hub.signal(signal)
