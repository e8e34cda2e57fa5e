"""Durable room changes other than new messages: one change, one seq, one event.

An edit, a delete, a reaction, a membership or a room change each runs in its own
transaction: the room's next seq is reserved, the change is written, and the event
it causes goes to the room event log and the outbox in the same transaction. So the
change and its event are stored together or not at all, and every instance replays
it in seq order. (New messages take the same steps in batches: domain/messages.py.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from roomchat import jsoncodec
from roomchat.domain.events import EventOutbox, RoomEvent
from roomchat.store import Store
from roomchat.store.seqs import reserve_seqs
from roomchat.store.transaction import Transaction

# Writes the change in ``tx`` given its seq; returns the event's (action, data).
Change = Callable[[Transaction, int], Awaitable[tuple[str, dict[str, Any]]]]


class EventRecorder:
    def __init__(self, store: Store, outbox: EventOutbox | None, origin: str) -> None:
        self._store = store
        self._outbox = outbox
        self._origin = origin

    @property
    def origin(self) -> str:
        """The instance id its events carry (for callers that build a batch for ``append``)."""
        return self._origin

    async def record(self, room_id: int, change: Change) -> RoomEvent:
        """Store ``change`` and its event; the caller publishes the event after replying.

        A ChatError raised by ``change`` rolls everything back, the seq included.
        """
        async with self._store.transaction() as tx:
            (seq,) = await reserve_seqs(tx.conn, [room_id])
            action, data = await change(tx, seq)
            event = RoomEvent.build(room_id, seq, action, jsoncodec.dumps(data), self._origin)
            await self.append(tx, [event])
        return event

    async def append(self, tx: Transaction, events: list[RoomEvent]) -> None:
        """The log and the outbox, in the caller's transaction (batches use this too)."""
        await self._store.events.append(tx, events)
        if self._outbox is not None:
            await self._outbox.add(tx, events)
