"""What a command that changes a room hands back: its value, and the durable events it
recorded (committed with the change) for the transport to publish once it has replied.

The transport does both in one adapter per transport (REST: ``api/outcomes.py``;
WebSocket: ``Handlers._answer`` and ``_publish`` in ``realtime/handlers.py``), so no
route or handler publishes by hand, forgets to, or publishes before its reply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from roomchat.domain.events import RoomEvent, RoomSignal

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Recorded(Protocol):
    """Anything carrying committed events to publish: an ``Outcome``, or a send's
    ``SendResult`` (its own type: it comes out of the group commit, the hot path); and
    the signals the command makes (mentions), sent after the events."""

    @property
    def events(self) -> Sequence[RoomEvent]: ...
    @property
    def signals(self) -> Sequence[RoomSignal]: ...


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T_co]):
    """``value``: what the caller is told about (a room, a member, the encoded reply);
    ``events``: none when the command changed nothing (a second join, an unchanged edit);
    ``signals``: user-addressed signals to send once the events are out."""

    value: T_co
    events: tuple[RoomEvent, ...] = ()
    signals: tuple[RoomSignal, ...] = ()


def outcome(value: T, *events: RoomEvent | None) -> Outcome[T]:
    """An outcome of ``value`` and the events that were recorded (None: no event)."""
    return Outcome(value, tuple(event for event in events if event is not None))
