"""The outbox relay: every committed room event reaches the bus, in order, however long
it is down.

An event's outbox row is committed with the change it announces. The relay publishes
the event and deletes the row once the bus acknowledged it. Two modes:

* live: events handed over once committed (``enqueue``) go out from memory, oldest outbox id first,
  one batch at a time (a batch is acknowledged before the next is sent, so a newer
  event never overtakes an older one).
* backlog: after a failed send (or at start-up) the database is the source: the
  instance's own rows are claimed oldest first, published and deleted, batch after
  batch, until none is left; then live again. Events enqueued meanwhile are dropped
  from memory before each read, since the read sees them (they were committed before
  they were enqueued); only those enqueued after the last, empty read stay.

Rows another instance left behind for longer than ``orphan_after_s`` (it died) are
claimed and published too, with their original origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from roomchat.bus.base import Bus
from roomchat.outages import OutageLog
from roomchat.outbox.rows import OutboxRows, Queued
from roomchat.store.database import is_unavailable

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The bus did not take a batch; its rows stay in the outbox."""


class OutboxRelay:
    def __init__(
        self,
        outbox: OutboxRows,
        origin: str,
        bus: Bus,
        *,
        batch: int = 500,
        max_pending: int = 10_000,
        orphan_after_s: float = 30.0,
        retry_s: float = 1.0,
    ) -> None:
        self._outbox = outbox
        self._origin = origin
        self._bus = bus
        self._batch = batch
        self._max_pending = max_pending
        self._orphan_after_s = orphan_after_s
        self._orphan_every_s = max(0.5, orphan_after_s / 2)
        self._retry_s = retry_s
        # The database out of reach: one line when it starts and one when it is back.
        self._relaying = OutageLog(
            log, "outbox relay: reading or deleting outbox rows", is_unavailable
        )
        self._deleting = OutageLog(log, "outbox: deleting published rows", is_unavailable)
        self._count_every_s = 1.0
        self._pending: list[Queued] = []
        self._acked: list[int] = []  # published, row not deleted yet
        self._backlog = True  # start from the database: rows a previous run left
        self._backlog_rows: int | None = None
        self._next_orphan_check = 0.0
        self._orphans_published = 0
        self._published = 0
        self._wake = asyncio.Event()
        self._closing = False
        self._delete_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._deleter: asyncio.Task[None] | None = None
        self._deletes_wanted = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="roomchat-outbox-relay")
        self._deleter = asyncio.create_task(self._delete_loop(), name="roomchat-outbox-delete")

    async def close(self, grace_s: float = 5.0) -> None:
        """Publish what is still in memory if the bus is up, delete acked rows, stop."""
        self._closing = True
        self._wake.set()
        self._deletes_wanted.set()
        for task in (self._task, self._deleter):
            if task is None:
                continue
            try:
                await asyncio.wait_for(task, grace_s)
            except TimeoutError:
                pass  # the rows stay; the next run, or another instance, publishes them
            except Exception:
                log.exception("outbox relay stopped with an error")

    def enqueue(self, queued: Sequence[Queued]) -> None:
        """Committed rows, to publish from memory (the database has them too)."""
        if self._backlog and not self._bus.is_up():
            self._backlog_rows = (self._backlog_rows or 0) + len(queued)
            return  # the database holds them; the backlog drain reads them there
        if len(self._pending) + len(queued) > self._max_pending:
            # Too far behind for memory: the rows are all in the database.
            self._pending.clear()
            self._backlog = True
        else:
            self._pending.extend(queued)
        self._wake.set()

    def health(self) -> dict[str, Any]:
        unpublished = len(self._pending)
        if self._backlog and self._backlog_rows is not None:
            unpublished = max(unpublished, self._backlog_rows)
        return {
            "outbox_backlog": self._backlog,
            "outbox_unpublished": unpublished,
            "outbox_published": self._published,
            "outbox_orphans_published": self._orphans_published,
        }

    async def _run(self) -> None:
        while not self._closing:
            if not self._bus.is_up():
                self._backlog = True
                with contextlib.suppress(Exception):  # a figure for /readyz only
                    self._backlog_rows = await self._outbox.count(self._origin)
                await self._wait_up()
                continue
            try:
                if self._backlog:
                    await self._drain_own()
                elif time.monotonic() >= self._next_orphan_check:
                    await self._take_orphans()
                elif self._pending:
                    await self._send_pending()
                else:
                    await self._idle()
                self._relaying.succeeded()
            except SendFailed:
                self._backlog = True
                self._pending.clear()
            except Exception as exc:
                # The database, most likely; the rows are safe there. Try again shortly.
                self._relaying.failed(exc)
                await self._pause(self._retry_s)
        await self._final_flush()

    async def _wait_up(self) -> None:
        up = asyncio.ensure_future(self._bus.until_up())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait(
                {up, woken}, timeout=self._count_every_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            up.cancel()
            woken.cancel()
        self._wake.clear()

    async def _idle(self) -> None:
        wait = max(0.0, self._next_orphan_check - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)
        self._wake.clear()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _publish(self, queued: Sequence[Queued]) -> None:
        try:
            await self._bus.publish([q.event for q in queued])  # the bus marks itself down
        except Exception as exc:
            raise SendFailed(str(exc)) from exc
        self._published += len(queued)

    async def _send_pending(self) -> None:
        self._pending.sort(key=_outbox_id)  # nearly sorted already: commit order
        batch = self._pending[: self._batch]
        del self._pending[: self._batch]
        await self._publish(batch)
        self._acked.extend(q.outbox_id for q in batch)
        self._deletes_wanted.set()

    async def _drain_own(self) -> None:
        # Rows published but not deleted yet would otherwise go out twice.
        await self._delete_acked()
        self._pending.clear()  # every one of them is in the read below (committed before)
        async with self._outbox.claim_own(self._origin, self._batch) as claim:
            if claim.rows:
                await self._publish(claim.rows)
                claim.published = [row.outbox_id for row in claim.rows]
        if claim.rows:
            self._backlog_rows = await self._outbox.count(self._origin)
            log.info(
                "outbox: published %d stored events (%d left)",
                len(claim.rows),
                self._backlog_rows,
            )
            return
        if self._backlog_rows:
            log.info("outbox: backlog published; live again")
        self._backlog = False
        self._backlog_rows = 0

    async def _take_orphans(self) -> None:
        self._next_orphan_check = time.monotonic() + self._orphan_every_s
        while not self._closing:
            async with self._outbox.claim_orphans(
                self._origin, self._orphan_after_s, self._batch
            ) as claim:
                if not claim.rows:
                    return
                await self._publish(claim.rows)
                claim.published = [row.outbox_id for row in claim.rows]
            self._orphans_published += len(claim.rows)
            log.warning(
                "outbox: published %d events left by stopped instance(s) %s",
                len(claim.rows),
                ", ".join(sorted({row.event.origin for row in claim.rows})),
            )

    async def _delete_loop(self) -> None:
        while not self._closing:
            await self._deletes_wanted.wait()
            self._deletes_wanted.clear()
            try:
                await self._delete_acked()
                self._deleting.succeeded()
            except Exception as exc:
                self._deleting.failed(exc)
                await asyncio.sleep(self._retry_s)  # back off while the database is away
                self._deletes_wanted.set()

    async def _delete_acked(self) -> None:
        async with self._delete_lock:
            while self._acked:
                ids = self._acked[:1000]
                await self._outbox.delete(ids)
                del self._acked[: len(ids)]

    async def _final_flush(self) -> None:
        try:
            if self._bus.is_up() and not self._backlog:
                while self._pending:
                    await self._send_pending()
            await self._delete_acked()
        except Exception as exc:
            log.warning(
                "outbox: left unpublished rows for the next run or another instance: %s", exc
            )


def _outbox_id(queued: Queued) -> int:
    return queued.outbox_id
