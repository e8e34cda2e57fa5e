"""Where room events and signals go: this instance's hub at once, other instances
through the outbox relay (events) or straight through the bus (signals)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from roomchat.bus.base import Bus
from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.realtime.hub import Hub


class Fanout:
    def __init__(self, hub: Hub, bus: Bus, instance_id: str) -> None:
        self._hub = hub
        self._bus = bus
        self._instance_id = instance_id
        self._listeners: list[Callable[[RoomEvent], None]] = []
        self._internal: Callable[[RoomSignal], None] | None = None

    def on_event(self, listener: Callable[[RoomEvent], None]) -> None:
        """Call ``listener`` with every event this instance hears (its own as it
        publishes them, the others' from the bus), before its clients get it: state
        kept per instance (RoomService's membership cache) follows the events.

        As heard, not in seq order and not once each: an event stored on another
        instance before one stored here comes after it, and the bus may repeat itself
        (a partition read again). Only the hub orders, and only for joined rooms; a
        listener that must not go back keeps its room's highest seq (the recent
        history cache, sidebar activity). Nothing is dropped here: a late
        ``member_left`` must still reach the membership cache."""
        self._listeners.append(listener)

    def publish(self, events: Sequence[RoomEvent]) -> None:
        """Committed events, to this instance's clients (the outbox relay, which took
        them at commit, carries them to the other instances)."""
        for event in events:
            self._heard(event)

    def _heard(self, event: RoomEvent) -> None:
        for listener in self._listeners:
            listener(event)
        self._hub.deliver(event)

    def on_internal(self, listener: Callable[[RoomSignal], None]) -> None:
        """Call ``listener`` with the other instances' internal signals (presence)."""
        self._internal = listener

    def signal(self, signal: RoomSignal) -> None:
        if not signal.internal:  # an internal one is for the others only
            self._hub.signal(signal)
        self._bus.signal(signal)

    def event_from_bus(self, event: RoomEvent) -> None:
        if event.origin != self._instance_id:  # else delivered locally when it was stored
            self._heard(event)

    def signal_from_bus(self, signal: RoomSignal) -> None:
        if signal.origin == self._instance_id:
            return
        if not signal.internal:
            self._hub.signal(signal)
        elif self._internal is not None:
            self._internal(signal)
