"""The REST adapter of a command's outcome (domain/outcome.py): reply, then publish.

The one place a route's committed events reach this instance's clients (the outbox
relay carries them to the other instances); no route publishes by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from starlette.background import BackgroundTask
from starlette.responses import Response

from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.outcome import Recorded

R = TypeVar("R", bound=Response)


class Publisher(Protocol):
    """Where committed events and signals go on this instance (realtime/fanout.py's
    ``Fanout``)."""

    def publish(self, events: Sequence[RoomEvent]) -> None: ...
    def signal(self, signal: RoomSignal) -> None: ...


def reply(response: R, outcome: Recorded, fanout: Publisher) -> R:
    """``response`` (made from the outcome's value), with the outcome's events
    broadcast once it has gone out, and then its signals."""
    events, signals = outcome.events, outcome.signals
    if events or signals:

        async def publish() -> None:  # async: on the event loop, not in a worker thread
            if events:
                fanout.publish(events)
            for signal in signals:
                fanout.signal(signal)

        response.background = BackgroundTask(publish)
    return response
