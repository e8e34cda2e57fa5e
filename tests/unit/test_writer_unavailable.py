"""GroupCommitWriter with the database not answering: a batch that timed out fails all
its callers at once, instead of trying each of them again (each waiting as long)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from roomchat.group_commit import GroupCommitWriter
from roomchat.store.database import is_unavailable


class Unanswered:
    """An append that waits on a database that never answers, until its timeout."""

    def __init__(self) -> None:
        self.attempts: list[list[str]] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def append(self, batch: Sequence[str]) -> list[str]:
        self.attempts.append(list(batch))
        self.entered.set()
        await self.gate.wait()
        raise TimeoutError  # what asyncpg's statement timeout raises


async def test_a_batch_that_timed_out_fails_its_callers_without_trying_each_again() -> None:
    database = Unanswered()
    writer: GroupCommitWriter[str, str] = GroupCommitWriter(
        database.append, max_batch=10, unavailable=is_unavailable
    )
    writer.start()
    try:
        first = asyncio.create_task(writer.write("first"))
        await asyncio.wait_for(database.entered.wait(), 5)  # committing: the rest queue up
        queued = [asyncio.create_task(writer.write(f"queued-{n}")) for n in range(3)]
        database.gate.set()  # the timeouts fire (the queued writes are in line first)

        for write in [first, *queued]:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(write, 5)
        # Two batches, each asked once: "first", then the three queued behind it.
        assert database.attempts == [["first"], ["queued-0", "queued-1", "queued-2"]]
    finally:
        await writer.close()
