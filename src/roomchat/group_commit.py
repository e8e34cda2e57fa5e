"""Group commit: concurrent writes share one transaction and one commit.

While batches commit, new writes queue up; the next batch takes them (up to a bound).
The caller's ``key`` names what must stay in order (a room): with one, up to
``in_flight`` batches commit at once, but no two of them share a key, and a key's
writes are taken oldest first, so each key's writes commit in the order they were
made. Without a key one batch commits at a time, so everything keeps its order. What
a batch is and how it is stored is the caller's: ``append`` stores a batch and
returns one result per item, in order; ``unavailable`` tells a database that is down
(the whole batch fails at once) from a bad item (the others are retried without it).
It knows neither the domain nor the store: the message service runs one over the
store's batch writes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from roomchat.errors import ChatError, Code, rate_limited

log = logging.getLogger(__name__)

# The retry hint of a write refused because the queue is full. A short one: a batch
# commits in milliseconds and takes up to max_batch writes, so a full queue is usually
# gone within a fraction of a second; how long exactly nobody knows in advance (the
# database sets the pace), and a client backing off from here does no harm.
BUSY_RETRY_AFTER_MS = 100

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommitWriter(Generic[Item, Result]):
    def __init__(
        self,
        append: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        max_batch: int = 256,
        max_pending: int = 10_000,
        *,
        key: Callable[[Item], Hashable] | None = None,
        in_flight: int = 1,
        unavailable: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        self._append = append
        self._unavailable = unavailable
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._key = key
        self._in_flight = in_flight if key is not None else 1
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._busy: set[Hashable] = set()  # keys of the batches committing now
        self._commits: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="roomchat-group-commit")

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def write(self, item: Item) -> Result:
        if self._closing:
            raise ChatError(Code.INTERNAL_ERROR, "the server is shutting down")
        if len(self._pending) >= self._max_pending:
            raise rate_limited("the server is busy storing messages; retry", BUSY_RETRY_AFTER_MS)
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(self._commits) < self._in_flight:
                batch, keys = self._next_batch()
                if not batch:
                    break
                self._busy |= keys
                task = asyncio.create_task(self._commit(batch))
                self._commits.add(task)
                task.add_done_callback(functools.partial(self._finished, keys=keys))
            if self._closing and not self._pending and not self._commits:
                return

    def _finished(self, task: asyncio.Task[None], *, keys: set[Hashable]) -> None:
        self._commits.discard(task)
        self._busy -= keys
        self._wake.set()  # its keys are free: writes waiting on them can go

    def _next_batch(self) -> tuple[list[tuple[Item, asyncio.Future[Result]]], set[Hashable]]:
        """The oldest writes whose key no committing batch holds (all of a key's, in
        order, until the batch is full), and their keys."""
        if self._key is None:
            first = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            return first, set()
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        keys: set[Hashable] = set()
        rest: list[tuple[Item, asyncio.Future[Result]]] = []
        for index, pending in enumerate(self._pending):
            if len(batch) >= self._max_batch:
                rest.extend(self._pending[index:])
                break
            key = self._key(pending[0])
            if key in self._busy:
                rest.append(pending)  # behind a batch committing now: keeps its place
            else:
                batch.append(pending)
                keys.add(key)
        self._pending = rest
        return batch, keys

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._append([item for item, _ in batch])
        except Exception as exc:
            if self._unavailable(exc):
                # The database is down or too slow: one by one, each would wait as long
                # again. The whole batch fails now (its callers answer `unavailable`).
                log.warning("a batch of %d failed: the database is unavailable", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            if len(batch) > 1:
                # One bad item must not fail the others that shared its commit.
                log.warning("a batch of %d failed (%r); storing them one by one", len(batch), exc)
                for one in batch:
                    await self._commit([one])
                return
            if not isinstance(exc, ChatError):  # a ChatError is the caller's answer
                log.exception("storing a batch of one failed")
            _, future = batch[0]
            if not future.done():
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
