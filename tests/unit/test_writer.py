"""GroupCommitWriter: sends that queue up while a batch commits share the next commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from roomchat.errors import ChatError, Code
from roomchat.store.group_commit import GroupCommitWriter


class Storage:
    """A fake append: records each batch; can be held shut, or made to fail once."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.fail_next = False

    async def append(self, batch: Sequence[Any]) -> list[Any]:
        self.batches.append(list(batch))
        self.entered.set()
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("commit failed")
        return [f"stored:{item}" for item in batch]


@pytest.fixture
async def storage() -> Storage:
    return Storage()


@pytest.fixture
async def writer(storage: Storage) -> AsyncIterator[GroupCommitWriter]:
    w = GroupCommitWriter(storage.append, max_batch=3, max_pending=5)
    w.start()
    yield w
    storage.gate.set()
    await w.close()


async def hold_first_batch(storage: Storage, writer: GroupCommitWriter) -> asyncio.Task[Any]:
    """Start one write and keep its commit open until ``storage.gate`` is set."""
    storage.gate.clear()
    first = asyncio.create_task(writer.write("first"))
    await asyncio.wait_for(storage.entered.wait(), 5)
    return first


async def test_each_caller_gets_its_own_result(storage: Storage, writer: GroupCommitWriter) -> None:
    results = await asyncio.gather(*(writer.write(n) for n in range(3)))
    assert results == ["stored:0", "stored:1", "stored:2"]


async def test_writes_queued_during_a_commit_share_the_next_one_in_order(
    storage: Storage, writer: GroupCommitWriter
) -> None:
    first = await hold_first_batch(storage, writer)
    waiting = [asyncio.create_task(writer.write(n)) for n in range(5)]
    storage.gate.set()
    assert await first == "stored:first"
    assert [await w for w in waiting] == [f"stored:{n}" for n in range(5)]
    # One commit for the first, then the queue in batches of at most max_batch, in order.
    assert storage.batches == [["first"], [0, 1, 2], [3, 4]]


async def test_a_failed_commit_fails_its_callers_and_the_writer_goes_on(
    storage: Storage, writer: GroupCommitWriter
) -> None:
    first = await hold_first_batch(storage, writer)
    storage.fail_next = True
    storage.gate.set()
    with pytest.raises(ConnectionError):
        await first
    assert await writer.write("later") == "stored:later"


async def test_too_many_queued_writes_are_refused_as_rate_limited(
    storage: Storage, writer: GroupCommitWriter
) -> None:
    first = await hold_first_batch(storage, writer)
    queued = [asyncio.create_task(writer.write(n)) for n in range(5)]
    await asyncio.sleep(0)  # one loop turn: the five tasks run up to their first await
    with pytest.raises(ChatError) as refused:
        await writer.write("one too many")
    assert refused.value.code is Code.RATE_LIMITED
    storage.gate.set()
    await first
    assert len(await asyncio.gather(*queued)) == 5


async def test_close_finishes_queued_writes_then_refuses_new_ones(storage: Storage) -> None:
    writer = GroupCommitWriter(storage.append)
    writer.start()
    first = await hold_first_batch(storage, writer)
    queued = asyncio.create_task(writer.write("queued"))
    await asyncio.sleep(0)  # one loop turn: the queued write enqueues itself
    closing = asyncio.create_task(writer.close())
    storage.gate.set()
    await closing
    assert await first == "stored:first"
    assert await queued == "stored:queued"
    with pytest.raises(ChatError) as refused:
        await writer.write("after close")
    assert refused.value.code is Code.INTERNAL_ERROR


async def test_one_bad_message_fails_alone_not_the_batch_it_shared() -> None:
    async def append(batch: Sequence[Any]) -> list[Any]:
        if "bad" in batch:
            raise ValueError("the database refused one row")
        return [f"stored:{item}" for item in batch]

    w = GroupCommitWriter(append, max_batch=10)
    w.start()
    outcomes = await asyncio.gather(
        *(w.write(item) for item in ["a", "bad", "c"]),
        return_exceptions=True,
    )
    await w.close()
    assert outcomes[0] == "stored:a" and outcomes[2] == "stored:c"
    assert isinstance(outcomes[1], ValueError)
