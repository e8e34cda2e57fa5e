"""Reads of one room that all see the database at one point in time.

A join reply is the room, its messages as they are now and the room's seq; the
broadcasts after it continue from that seq. Read apart, an edit or a reaction
committed between two reads would be in the reply's messages *and* broadcast after
it (applied twice: a reaction counted twice). Read in one snapshot, the state and the
seq agree.

PostgreSQL: one REPEATABLE READ transaction (its snapshot is taken at its first
read). SQLite: the engine has a single connection, which every write of this process
also needs, so nothing is committed while a snapshot holds it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import MessagePage, Room
from roomchat.store import event_log
from roomchat.store import messages as message_rows
from roomchat.store.event_log import StoredEvent
from roomchat.store.rows import room_from
from roomchat.store.tables import rooms


class Snapshot:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def room(self, room_id: int) -> tuple[Room, int] | None:
        """The room (None once deleted) and its seq counter: the seq of its newest event."""
        query = select(rooms).where(rooms.c.id == room_id, rooms.c.deleted_at.is_(None))
        row = (await self._conn.execute(query)).first()
        return (room_from(row), int(row.last_seq)) if row else None

    async def latest_messages(self, room_id: int, limit: int) -> MessagePage:
        return await message_rows.latest(self._conn, room_id, limit)

    async def messages_before(self, room_id: int, before_seq: int, limit: int) -> MessagePage:
        return await message_rows.before(self._conn, room_id, before_seq, limit)

    async def events_after(
        self, room_id: int, after_seq: int, up_to: int, limit: int
    ) -> list[StoredEvent]:
        return await event_log.events_after(self._conn, room_id, after_seq, limit, up_to)


def snapshots_of(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for snapshots: REPEATABLE READ where the database has it."""
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="REPEATABLE READ")


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[Snapshot]:
    """``engine`` from :func:`snapshots_of`."""
    async with engine.connect() as conn, conn.begin():
        yield Snapshot(conn)
