"""A write transaction that several repositories (and the outbox) share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from roomchat.store import bound

if TYPE_CHECKING:
    from roomchat.store import Store


class Transaction:
    """One open transaction (domain/ports.py: ``RoomTransaction``): the repositories
    bound to it, for the domain; ``conn`` to write with, for the store and the outbox;
    ``on_commit`` for what may only happen once it committed (handing its outbox rows to
    the relay, say)."""

    __slots__ = ("_after", "_store", "conn")

    def __init__(self, conn: AsyncConnection, store: Store) -> None:
        self.conn = conn
        self._store = store
        self._after: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)

    # Each a few attributes, made when asked for: most transactions use one or two.
    @property
    def messages(self) -> bound.BoundMessages:
        return bound.BoundMessages(self, self._store)

    @property
    def reactions(self) -> bound.BoundReactions:
        return bound.BoundReactions(self.conn, self._store)

    @property
    def mentions(self) -> bound.BoundMentions:
        return bound.BoundMentions(self.conn, self._store)

    @property
    def threads(self) -> bound.BoundThreads:
        return bound.BoundThreads(self.conn, self._store)

    @property
    def events(self) -> bound.BoundEventLog:
        return bound.BoundEventLog(self, self._store)

    @property
    def rooms(self) -> bound.BoundRooms:
        return bound.BoundRooms(self.conn, self._store)

    @property
    def api_keys(self) -> bound.BoundApiKeys:
        return bound.BoundApiKeys(self.conn, self._store)

    @property
    def workspaces(self) -> bound.BoundWorkspaces:
        return bound.BoundWorkspaces(self.conn, self._store)


@asynccontextmanager
async def transaction(store: Store) -> AsyncIterator[Transaction]:
    """Commit when the block ends (roll back if it raises), then run the on-commit callbacks."""
    async with store.engine.begin() as conn:
        tx = Transaction(conn, store)
        yield tx
    for callback in tx._after:
        callback()
