"""Webhook endpoints, their per-room cursors and their recent delivery attempts.

The deliveries themselves are read from the room event log (``room_events``): an
endpoint's cursor in a room says up to which seq it got everything. A room's seq is
bumped under its row lock and committed with its events, so whatever ``rooms.last_seq``
a reader sees, every event up to it is committed: a cursor never skips one that
commits late.

Whoever keeps endpoints in memory (the dispatcher) is told when this instance changes
one (``on_change``); other instances' changes reach it with its next lease renewal,
which reads every endpoint it holds.

An endpoint can be deleted while a delivery to it is in flight (on another instance,
or by an ownership transfer, which tells no dispatcher). Recording what the dispatcher
did first takes the endpoint's row in a key-share lock, in the statement that records
the attempt where there is one: a row gone raises ``EndpointGone`` (the dispatcher
drops the endpoint) instead of a foreign key violation, or, on SQLite, which enforces
no foreign keys, an orphan that the next endpoint given the same id would list as its
own. A deletion locks the row first, so the two never interleave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import ROOM, DeliveryAttempt, Webhook
from roomchat.domain.records import Failing as Failing
from roomchat.domain.records import LoggedEvent as LoggedEvent
from roomchat.domain.records import NewWebhook as NewWebhook
from roomchat.domain.records import TooManyWebhooks as TooManyWebhooks
from roomchat.store.database import reads_of
from roomchat.store.tables import (
    room_events,
    rooms,
    webhook_cursors,
    webhook_deliveries,
    webhooks,
    workspaces,
)

# A workspace's endpoints get its rooms' events, never a direct conversation's: its
# owner (who holds the endpoint) is no reader of other people's conversations.
_SHARED = rooms.c.kind == ROOM

log = logging.getLogger(__name__)

# Attempts kept per endpoint for the deliveries listing.
KEEP_ATTEMPTS = 200


class EndpointGone(Exception):
    """The endpoint's row is gone (deleted since it was read): nothing is recorded."""


def _webhook(row: Any) -> Webhook:
    m = row._mapping
    return Webhook(
        id=m["id"],
        workspace_id=m["workspace_id"],
        url=m["url"],
        events=tuple(m["events"].split(",")),
        secret=m["secret"],
        previous_secret=m["previous_secret"],
        previous_secret_expires_at=m["previous_secret_expires_at"],
        enabled=bool(m["enabled"]),
        disabled_reason=m["disabled_reason"],
        failing_since=m["failing_since"],
        failures=m["failures"],
        next_attempt_at=m["next_attempt_at"],
        created_by=m["created_by"],
        created_at=m["created_at"],
    )


def _attempt(row: Any) -> DeliveryAttempt:
    m = row._mapping
    return DeliveryAttempt(
        event_id=m["event_id"],
        event_type=m["event_type"],
        room_id=m["room_id"],
        seq=m["seq"],
        attempt=m["attempt"],
        outcome=m["outcome"],
        response_code=m["response_code"],
        error=m["error"],
        duration_ms=m["duration_ms"],
        attempted_at=m["attempted_at"],
        next_retry_at=m["next_retry_at"],
    )


def _attempt_row(webhook_id: int, attempt: DeliveryAttempt) -> dict[str, Any]:
    return {"webhook_id": webhook_id, **{k: getattr(attempt, k) for k in attempt.__slots__}}


class WebhookRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` once an endpoint was made, changed or deleted here."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # the change is committed; a listener's trouble is its own
                log.exception("webhooks: a change listener failed")

    # --- what the owner manages ---

    async def create(self, new: NewWebhook, limit: int, now: datetime) -> Webhook:
        """The endpoint, with a cursor at every room's seq now (it gets what comes next).

        LookupError: no such workspace; TooManyWebhooks: ``limit`` endpoints already.
        """
        async with self._engine.begin() as conn:
            # Locks the workspace row: two concurrent creations cannot both pass the count.
            found = await conn.scalar(
                select(workspaces.c.id).where(workspaces.c.id == new.workspace_id).with_for_update()
            )
            if found is None:
                raise LookupError(new.workspace_id)
            count = await conn.scalar(
                select(func.count())
                .select_from(webhooks)
                .where(webhooks.c.workspace_id == new.workspace_id)
            )
            if (count or 0) >= limit:
                raise TooManyWebhooks()
            webhook_id = await conn.scalar(
                insert(webhooks)
                .values(
                    workspace_id=new.workspace_id,
                    url=new.url,
                    events=",".join(new.events),
                    secret=new.secret,
                    enabled=True,
                    failures=0,
                    created_by=new.created_by,
                    created_at=now,
                )
                .returning(webhooks.c.id)
            )
            await conn.execute(
                insert(webhook_cursors).from_select(
                    ["webhook_id", "room_id", "delivered_seq"],
                    select(literal(webhook_id), rooms.c.id, rooms.c.last_seq).where(
                        rooms.c.workspace_id == new.workspace_id
                    ),
                )
            )
            made = await self._one(conn, new.workspace_id, webhook_id)
        self._changed()
        return made  # type: ignore[return-value]

    async def _one(
        self, conn: AsyncConnection, workspace_id: int, webhook_id: int, for_update: bool = False
    ) -> Webhook | None:
        query = select(webhooks).where(
            webhooks.c.id == webhook_id, webhooks.c.workspace_id == workspace_id
        )
        if for_update:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return None if row is None else _webhook(row)

    async def get(self, workspace_id: int, webhook_id: int) -> Webhook | None:
        async with self._reads.connect() as conn:
            return await self._one(conn, workspace_id, webhook_id)

    async def by_id(self, webhook_id: int) -> Webhook | None:
        async with self._reads.connect() as conn:
            row = (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id))).first()
            return None if row is None else _webhook(row)

    async def listed(self, workspace_id: int | None) -> list[Webhook]:
        """A workspace's endpoints (every workspace's with None), oldest first."""
        query = select(webhooks).order_by(webhooks.c.id)
        if workspace_id is not None:
            query = query.where(webhooks.c.workspace_id == workspace_id)
        async with self._reads.connect() as conn:
            return [_webhook(row) for row in (await conn.execute(query)).all()]

    async def change(
        self, workspace_id: int, webhook_id: int, values: dict[str, Any]
    ) -> Webhook | None:
        """Set columns of the endpoint (None: no such endpoint in the workspace)."""
        async with self._engine.begin() as conn:
            if values:
                await conn.execute(
                    update(webhooks)
                    .where(webhooks.c.id == webhook_id, webhooks.c.workspace_id == workspace_id)
                    .values(**values)
                )
            changed = await self._one(conn, workspace_id, webhook_id)
        if values and changed is not None:
            self._changed()
        return changed

    async def delete(self, workspace_id: int, webhook_id: int) -> Webhook | None:
        async with self._engine.begin() as conn:
            # Locked first: an attempt being recorded finishes before the rows referring
            # to the endpoint are deleted, or finds the endpoint gone.
            found = await self._one(conn, workspace_id, webhook_id, for_update=True)
            if found is None:
                return None
            for table in (webhook_deliveries, webhook_cursors):
                await conn.execute(delete(table).where(table.c.webhook_id == webhook_id))
            await conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
        self._changed()
        return found

    async def attempts(self, webhook_id: int, limit: int) -> list[DeliveryAttempt]:
        """The newest attempts first."""
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(webhook_deliveries.c.id.desc())
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            return [_attempt(row) for row in (await conn.execute(query)).all()]

    # --- what the dispatcher uses ---

    async def lease(self, owner: str, until: datetime, now: datetime) -> list[Webhook]:
        """Renew this instance's leases and take every enabled endpoint nobody holds:
        the endpoints held now, as they are now. Concurrent instances never both take
        one (the UPDATE's condition is checked again on the locked row)."""
        query = (
            update(webhooks)
            .where(
                webhooks.c.enabled,
                or_(
                    webhooks.c.lease_owner == owner,
                    webhooks.c.lease_until.is_(None),
                    webhooks.c.lease_until < now,
                ),
            )
            .values(lease_owner=owner, lease_until=until)
            .returning(*webhooks.c)
        )
        async with self._engine.begin() as conn:
            held = [_webhook(row) for row in (await conn.execute(query)).all()]
        return sorted(held, key=lambda webhook: webhook.id)

    async def release(self, owner: str, webhook_ids: Sequence[int] | None = None) -> None:
        where = [webhooks.c.lease_owner == owner]
        if webhook_ids is not None:
            where.append(webhooks.c.id.in_(list(webhook_ids)))
        async with self._engine.begin() as conn:
            await conn.execute(
                update(webhooks).where(*where).values(lease_owner=None, lease_until=None)
            )

    async def pending_rooms(
        self, webhook_id: int, workspace_id: int, limit: int
    ) -> list[tuple[int, int]]:
        """Rooms of the workspace with events past the endpoint's cursor: (room, cursor)."""
        cursor = func.coalesce(webhook_cursors.c.delivered_seq, 0)
        query = (
            select(rooms.c.id, cursor)
            .select_from(
                rooms.outerjoin(
                    webhook_cursors,
                    and_(
                        webhook_cursors.c.room_id == rooms.c.id,
                        webhook_cursors.c.webhook_id == webhook_id,
                    ),
                )
            )
            .where(rooms.c.workspace_id == workspace_id, rooms.c.last_seq > cursor, _SHARED)
            .order_by(rooms.c.id)
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            return [(row[0], row[1]) for row in (await conn.execute(query)).all()]

    async def pending(self, owner: str, limit: int) -> list[tuple[int, int]]:
        """(endpoint, room) pairs with events past the cursor, for the enabled endpoints
        ``owner`` holds: one query for all of them."""
        cursor = func.coalesce(webhook_cursors.c.delivered_seq, 0)
        query = (
            select(webhooks.c.id, rooms.c.id)
            .select_from(
                webhooks.join(rooms, rooms.c.workspace_id == webhooks.c.workspace_id).outerjoin(
                    webhook_cursors,
                    and_(
                        webhook_cursors.c.webhook_id == webhooks.c.id,
                        webhook_cursors.c.room_id == rooms.c.id,
                    ),
                )
            )
            .where(
                webhooks.c.lease_owner == owner,
                webhooks.c.enabled,
                rooms.c.last_seq > cursor,
                _SHARED,
            )
            .order_by(webhooks.c.id, rooms.c.id)
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            return [(row[0], row[1]) for row in (await conn.execute(query)).all()]

    async def workspaces_of(self, room_ids: Sequence[int]) -> dict[int, int]:
        """room -> its workspace, for those of ``room_ids`` that exist (and are no direct
        conversation)."""
        query = select(rooms.c.id, rooms.c.workspace_id).where(
            rooms.c.id.in_(list(room_ids)), _SHARED
        )
        async with self._reads.connect() as conn:
            return {row[0]: row[1] for row in (await conn.execute(query)).all()}

    async def events_past_cursor(
        self, webhook_id: int, room_id: int, limit: int
    ) -> list[LoggedEvent]:
        """The room's events the endpoint has not had yet, oldest first."""
        cursor = (
            select(webhook_cursors.c.delivered_seq)
            .where(webhook_cursors.c.webhook_id == webhook_id, webhook_cursors.c.room_id == room_id)
            .scalar_subquery()
        )
        query = (
            select(
                room_events.c.room_id,
                room_events.c.seq,
                room_events.c.action,
                room_events.c.data,
                room_events.c.created_at,
            )
            .where(
                room_events.c.room_id == room_id,
                room_events.c.seq > func.coalesce(cursor, 0),
                room_events.c.room_id.in_(select(rooms.c.id).where(rooms.c.id == room_id, _SHARED)),
            )
            .order_by(room_events.c.seq)
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            return [
                LoggedEvent(r.room_id, r.seq, r.action, bytes(r.data), r.created_at)
                for r in (await conn.execute(query)).all()
            ]

    async def advance(self, webhook_id: int, room_id: int, seq: int) -> None:
        """Move the endpoint's cursor in the room to ``seq`` (never back).

        EndpointGone: the endpoint was deleted.
        """
        async with self._engine.begin() as conn:
            still_there = await conn.scalar(
                select(webhooks.c.id)
                .where(webhooks.c.id == webhook_id)
                .with_for_update(key_share=True)
            )
            if still_there is None:
                raise EndpointGone(webhook_id)
            await self._advance(conn, webhook_id, room_id, seq)

    async def _advance(
        self, conn: AsyncConnection, webhook_id: int, room_id: int, seq: int
    ) -> None:
        stmt = self._insert(webhook_cursors).values(
            webhook_id=webhook_id, room_id=room_id, delivered_seq=seq
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[webhook_cursors.c.webhook_id, webhook_cursors.c.room_id],
                set_={"delivered_seq": stmt.excluded.delivered_seq},
                where=webhook_cursors.c.delivered_seq < stmt.excluded.delivered_seq,
            )
        )

    async def _record(
        self, conn: AsyncConnection, webhook_id: int, attempt: DeliveryAttempt
    ) -> None:
        """Insert the attempt if the endpoint is still there, in one statement that
        holds its row until the transaction ends (a deletion waits for it); if not,
        EndpointGone."""
        row = _attempt_row(webhook_id, attempt)
        columns = [webhook_deliveries.c[name] for name in row]
        still_there = (
            select(*(literal(row[c.name], c.type) for c in columns))
            .where(webhooks.c.id == webhook_id)
            .with_for_update(key_share=True)
        )
        recorded = await conn.execute(insert(webhook_deliveries).from_select(columns, still_there))
        if recorded.rowcount != 1:
            raise EndpointGone(webhook_id)

    async def delivered(self, webhook_id: int, attempt: DeliveryAttempt, was_failing: bool) -> None:
        """Record a delivered event: the attempt, the cursor past it, the endpoint well.

        EndpointGone: the endpoint was deleted; nothing is recorded.
        """
        async with self._engine.begin() as conn:
            await self._record(conn, webhook_id, attempt)
            await self._advance(conn, webhook_id, attempt.room_id, attempt.seq)
            if was_failing:
                await conn.execute(
                    update(webhooks)
                    .where(webhooks.c.id == webhook_id)
                    .values(failures=0, failing_since=None, next_attempt_at=None)
                )

    async def failed(self, webhook_id: int, attempt: DeliveryAttempt, state: Failing) -> None:
        """Record a failed attempt and the endpoint's new state (disabled, maybe).

        EndpointGone: the endpoint was deleted; nothing is recorded.
        """
        values: dict[str, Any] = {
            "failures": state.failures,
            "failing_since": state.failing_since,
            "next_attempt_at": state.next_attempt_at,
        }
        if state.disabled_reason is not None:
            values.update(
                enabled=False,
                disabled_reason=state.disabled_reason,
                lease_owner=None,
                lease_until=None,
            )
        async with self._engine.begin() as conn:
            await self._record(conn, webhook_id, attempt)
            await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(**values))

    async def prune(self, webhook_id: int, keep: int = KEEP_ATTEMPTS) -> None:
        """Drop all but the newest ``keep`` attempts of the endpoint."""
        async with self._engine.begin() as conn:
            oldest_kept = await conn.scalar(
                select(webhook_deliveries.c.id)
                .where(webhook_deliveries.c.webhook_id == webhook_id)
                .order_by(webhook_deliveries.c.id.desc())
                .offset(keep - 1)
                .limit(1)
            )
            if oldest_kept is not None:
                await conn.execute(
                    delete(webhook_deliveries).where(
                        webhook_deliveries.c.webhook_id == webhook_id,
                        webhook_deliveries.c.id < oldest_kept,
                    )
                )
