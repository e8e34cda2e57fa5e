"""Outbox rows: written in the sending transaction, claimed (locked) while published,
deleted once the bus acknowledged them.

A row holds a durable room event as it is broadcast (``payload`` is its frame). On
PostgreSQL a claim takes ``FOR UPDATE SKIP LOCKED`` row locks for as long as the
rows are being published, so two instances never take the same rows at once.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat.domain.events import RoomEvent
from roomchat.frames import action_of
from roomchat.store.database import reads_of
from roomchat.store.tables import outbox
from roomchat.store.transaction import Transaction

# One instance at a time takes over rows of dead instances, so it publishes them in order.
_ORPHAN_LOCK = zlib.crc32(b"roomchat.outbox.orphans")


@dataclass(frozen=True, slots=True)
class Queued:
    """A committed event and its outbox row, waiting to be published."""

    outbox_id: int
    event: RoomEvent


@dataclass
class Claim:
    """Rows locked for publishing; those in ``published`` are deleted when the claim ends."""

    rows: list[Queued]
    published: list[int] = field(default_factory=list)

    @property
    def events(self) -> list[RoomEvent]:
        return [row.event for row in self.rows]


class OutboxRows:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)
        self._postgres = engine.dialect.name == "postgresql"

    async def insert(self, tx: Transaction, events: Sequence[RoomEvent]) -> list[Queued]:
        """Write the events' rows in the caller's transaction."""
        if not events:
            return []
        now = datetime.now(UTC)
        ids = await tx.conn.execute(
            insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True),
            [
                {
                    "room_id": event.room_id,
                    "seq": event.seq,
                    "origin": event.origin,
                    "payload": event.frame,
                    "created_at": now,
                }
                for event in events
            ],
        )
        return [Queued(i, e) for i, e in zip(ids.scalars().all(), events, strict=True)]

    @asynccontextmanager
    async def claim_own(self, origin: str, limit: int) -> AsyncIterator[Claim]:
        """This instance's oldest unpublished rows, oldest first."""
        async with self._claim(outbox.c.origin == origin, limit, orphans=False) as claim:
            yield claim

    @asynccontextmanager
    async def claim_orphans(
        self, origin: str, older_than_s: float, limit: int
    ) -> AsyncIterator[Claim]:
        """Rows other instances left behind for longer than ``older_than_s`` (they died)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        where = (outbox.c.origin != origin) & (outbox.c.created_at < cutoff)
        async with self._claim(where, limit, orphans=True) as claim:
            yield claim

    @asynccontextmanager
    async def _claim(
        self, where: ColumnElement[bool], limit: int, orphans: bool
    ) -> AsyncIterator[Claim]:
        async with self._engine.begin() as conn:
            if orphans and self._postgres:
                locked = await conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ORPHAN_LOCK}
                )
                if not locked:
                    yield Claim([])
                    return
            query = (
                select(
                    outbox.c.id, outbox.c.room_id, outbox.c.seq, outbox.c.origin, outbox.c.payload
                )
                .where(where)
                .order_by(outbox.c.id)
                .limit(limit)
            )
            if self._postgres:
                query = query.with_for_update(skip_locked=True)
            claim = Claim([_queued(*row) for row in (await conn.execute(query)).all()])
            yield claim
            if claim.published:
                await conn.execute(delete(outbox).where(outbox.c.id.in_(claim.published)))

    async def delete(self, ids: Sequence[int]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))

    async def count(self, origin: str | None = None) -> int:
        """Unpublished rows: this instance's with ``origin``, everybody's without."""
        query = select(func.count()).select_from(outbox)
        if origin is not None:
            query = query.where(outbox.c.origin == origin)
        async with self._reads.connect() as conn:
            return int(await conn.scalar(query) or 0)


def _queued(outbox_id: int, room_id: int, seq: int, origin: str, frame: bytes) -> Queued:
    return Queued(outbox_id, RoomEvent(room_id, seq, action_of(frame), origin, frame))
