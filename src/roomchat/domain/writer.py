"""Group commit: concurrent sends share one transaction and one commit.

While a batch commits, new sends queue up; the next batch takes them all (up to a
bound). One writer per instance also means an instance's own messages for a room
commit in the order they were sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from roomchat.errors import ChatError, Code
from roomchat.store.messages import Appended, NewMessage

log = logging.getLogger(__name__)

AppendBatch = Callable[[Sequence[NewMessage]], Awaitable[list[Appended]]]


class GroupCommitWriter:
    def __init__(self, append: AppendBatch, max_batch: int = 256, max_pending: int = 10_000):
        self._append = append
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[tuple[NewMessage, asyncio.Future[Appended]]] = []
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

    async def write(self, item: NewMessage) -> Appended:
        if self._closing:
            raise ChatError(Code.INTERNAL_ERROR, "the server is shutting down")
        if len(self._pending) >= self._max_pending:
            raise ChatError(Code.RATE_LIMITED, "the server is busy storing messages; retry")
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
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

    async def _commit(self, batch: list[tuple[NewMessage, asyncio.Future[Appended]]]) -> None:
        try:
            results = await self._append([item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                # One bad message must not fail the others that shared its commit.
                log.warning("a batch of %d failed (%r); storing them one by one", len(batch), exc)
                for one in batch:
                    await self._commit([one])
                return
            log.exception("storing a message failed")
            _, future = batch[0]
            if not future.done():
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
