"""The outbox as the domain sees it (domain/events.py: ``EventOutbox``).

The outbox writes its rows with the store's connection, so it takes the store's
``Transaction``; the domain hands it the ``RoomTransaction`` port, which in this
process is always that same object. This adapter is the one place that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from roomchat.store.transaction import Transaction

if TYPE_CHECKING:
    from roomchat.domain.events import RoomEvent
    from roomchat.domain.ports import RoomTransaction


class StoreOutbox(Protocol):
    async def add(self, tx: Transaction, events: Sequence[RoomEvent]) -> None: ...
    def committed(self, rows: Sequence[tuple[int, RoomEvent]]) -> None: ...


class OutboxPort:
    __slots__ = ("_outbox",)

    def __init__(self, outbox: StoreOutbox) -> None:
        self._outbox = outbox

    async def add(self, tx: RoomTransaction, events: Sequence[RoomEvent]) -> None:
        if not isinstance(tx, Transaction):
            raise TypeError(f"not a store transaction: {type(tx).__name__}")
        await self._outbox.add(tx, events)

    def committed(self, rows: Sequence[tuple[int, RoomEvent]]) -> None:
        self._outbox.committed(rows)
