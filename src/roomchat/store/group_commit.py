"""Group commit: concurrent writes share one transaction and one commit.

While a batch commits, new writes queue up; the next batch takes them all (up to a
bound). One writer per instance also means an instance's own writes to a room
commit in the order they were made. What a batch is and how it is stored is the
caller's: ``append`` stores a batch and returns one result per item, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from roomchat.errors import ChatError, Code

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommitWriter(Generic[Item, Result]):
    def __init__(
        self,
        append: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        max_batch: int = 256,
        max_pending: int = 10_000,
    ) -> None:
        self._append = append
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
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
            raise ChatError(Code.RATE_LIMITED, "the server is busy storing messages; retry")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
            if self._closing:
                return

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._append([item for item, _ in batch])
        except Exception as exc:
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
