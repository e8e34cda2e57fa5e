"""The REST adapter of a command's outcome (domain/outcome.py): reply, then publish.

The one place a route's committed events reach this instance's clients (the outbox
relay carries them to the other instances); no route publishes by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from starlette.background import BackgroundTask
from starlette.responses import Response

from roomchat.domain.events import RoomEvent
from roomchat.domain.outcome import Recorded

R = TypeVar("R", bound=Response)


class Publisher(Protocol):
    """Where committed events go on this instance (realtime/fanout.py's ``Fanout``)."""

    def publish(self, events: Sequence[RoomEvent]) -> None: ...


def reply(response: R, outcome: Recorded, fanout: Publisher) -> R:
    """``response`` (made from the outcome's value), with the outcome's events
    broadcast once it has gone out."""
    events = outcome.events
    if events:

        async def publish() -> None:  # async: on the event loop, not in a worker thread
            fanout.publish(events)

        response.background = BackgroundTask(publish)
    return response
