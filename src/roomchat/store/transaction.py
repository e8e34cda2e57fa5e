"""A write transaction that several repositories (and the outbox) share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Transaction:
    """One open transaction: ``conn`` to write with; ``on_commit`` for what may only
    happen once it committed (handing its outbox rows to the relay, say)."""

    __slots__ = ("_after", "conn")

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._after: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """Commit when the block ends (roll back if it raises), then run the on-commit callbacks."""
    async with engine.begin() as conn:
        tx = Transaction(conn)
        yield tx
    for callback in tx._after:
        callback()
