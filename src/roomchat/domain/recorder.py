"""Durable room changes other than new messages: one change, one seq, one event.

An edit, a delete, a reaction, a membership or a room change each runs in its own
transaction: the room's next seq is reserved, the change is written, and the event
it causes goes to the room event log and the outbox in the same transaction. So the
change and its event are stored together or not at all, and every instance replays
it in seq order. (New messages take the same steps in batches: domain/messages.py.)
"""

from __future__ import annotations

from roomchat import jsoncodec
from roomchat.domain.events import EventOutbox, RoomEvent
from roomchat.domain.ports import Change, RoomTransaction, Storage


class EventRecorder:
    def __init__(self, store: Storage, outbox: EventOutbox | None, origin: str) -> None:
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
            (seq,) = await tx.seqs.reserve([room_id])
            action, data = await change(tx, seq)
            event = RoomEvent.build(room_id, seq, action, jsoncodec.dumps(data), self._origin)
            await self.append(tx, [event])
        return event

    async def append(self, tx: RoomTransaction, events: list[RoomEvent]) -> None:
        """The log and the outbox, in the caller's transaction (batches use this too)."""
        await tx.events.append(events)
        if self._outbox is not None:
            await self._outbox.add(tx, events)
