"""The transactional outbox: the one owner of the ``outbox`` table.

A durable room event is written here in the transaction that stores its change
(``add``), so no committed event can miss the other instances; once the transaction
committed, the relay publishes it on the bus and deletes the row when the bus
acknowledged it. Rows a stopped instance left are published by a surviving one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat.bus.base import Bus
from roomchat.domain.events import RoomEvent
from roomchat.outbox.relay import OutboxRelay
from roomchat.outbox.rows import OutboxRows, Queued
from roomchat.store.transaction import Transaction


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    batch: int = 500  # rows published per batch
    orphan_after_s: float = 30.0  # another instance's rows this old: it died, publish them
    retry_s: float = 1.0  # after a database error


class Outbox:
    def __init__(self, engine: AsyncEngine, bus: Bus, origin: str, limits: OutboxLimits) -> None:
        self.rows = OutboxRows(engine)
        self._relay = OutboxRelay(
            self.rows,
            origin,
            bus,
            batch=limits.batch,
            orphan_after_s=limits.orphan_after_s,
            retry_s=limits.retry_s,
        )

    async def add(self, tx: Transaction, events: Sequence[RoomEvent]) -> None:
        """Write the events' rows in ``tx``; the relay publishes them once it commits."""
        queued = await self.rows.insert(tx, events)
        if queued:
            tx.on_commit(lambda: self._relay.enqueue(queued))

    def committed(self, rows: Sequence[tuple[int, RoomEvent]]) -> None:
        """Rows a batch statement wrote (store/append_pg.py), once it committed."""
        if rows:
            self._relay.enqueue([Queued(outbox_id, event) for outbox_id, event in rows])

    def start(self) -> None:
        self._relay.start()

    async def close(self) -> None:
        """Publish what is still in memory if the bus is up; leave the rest in the table."""
        await self._relay.close()

    def health(self) -> dict[str, Any]:
        return self._relay.health()
