"""GroupCommitWriter: sends that queue up while a batch commits share the next commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from roomchat.errors import ChatError, Code
from roomchat.group_commit import GroupCommitWriter


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
    assert refused.value.retry_after_ms == 100
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


async def settle() -> None:
    """Let every ready task run a few steps (to check that something did not start)."""
    for _ in range(20):
        await asyncio.sleep(0)


class Gated:
    """A fake append whose every commit waits for the test to let it end."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.committed: list[list[tuple[str, int]]] = []
        self.gates: list[asyncio.Event] = []
        self.started = asyncio.Condition()

    async def append(self, batch: Sequence[tuple[str, int]]) -> list[str]:
        gate = asyncio.Event()
        async with self.started:
            self.batches.append(list(batch))
            self.gates.append(gate)
            self.started.notify_all()
        await gate.wait()
        self.committed.append(list(batch))
        return [f"{room}:{n}" for room, n in batch]

    async def until_started(self, count: int) -> None:
        async with asyncio.timeout(5), self.started:
            await self.started.wait_for(lambda: len(self.batches) >= count)


async def test_batches_of_other_keys_commit_side_by_side_and_each_key_keeps_its_order() -> None:
    storage = Gated()
    writer: GroupCommitWriter[tuple[str, int], str] = GroupCommitWriter(
        storage.append, max_batch=10, key=lambda item: item[0], in_flight=2
    )
    writer.start()
    try:
        first = asyncio.create_task(writer.write(("a", 1)))
        await storage.until_started(1)
        # a:1 is committing: a:2 waits behind it; b's writes go in a batch of their own.
        queued = [
            asyncio.create_task(writer.write(item)) for item in (("a", 2), ("b", 1), ("b", 2))
        ]
        await storage.until_started(2)
        assert storage.batches == [[("a", 1)], [("b", 1), ("b", 2)]]
        # Two in flight: c waits for one to end, though its key is free.
        later = asyncio.create_task(writer.write(("c", 1)))
        await settle()  # the writer looked, and must not have started a third
        assert len(storage.batches) == 2
        storage.gates[1].set()  # b's batch ends first: a:2 still waits for a:1
        assert await queued[1] == "b:1" and await queued[2] == "b:2"
        await storage.until_started(3)
        assert storage.batches[2] == [("c", 1)]
        storage.gates[0].set()
        assert await first == "a:1"
        await storage.until_started(4)
        assert storage.batches[3] == [("a", 2)]
        for gate in storage.gates:
            gate.set()
        assert await queued[0] == "a:2" and await later == "c:1"
        order_of_a = [item for batch in storage.committed for item in batch if item[0] == "a"]
        assert order_of_a == [("a", 1), ("a", 2)]
    finally:
        for gate in storage.gates:
            gate.set()
        await writer.close()


async def test_without_a_key_one_batch_commits_at_a_time() -> None:
    storage = Gated()
    writer: GroupCommitWriter[tuple[str, int], str] = GroupCommitWriter(storage.append, in_flight=4)
    writer.start()
    try:
        first = asyncio.create_task(writer.write(("a", 1)))
        await storage.until_started(1)
        other = asyncio.create_task(writer.write(("b", 1)))
        await settle()
        assert len(storage.batches) == 1  # in_flight needs a key to order by
        storage.gates[0].set()
        await storage.until_started(2)
        storage.gates[1].set()
        assert (await first, await other) == ("a:1", "b:1")
    finally:
        for gate in storage.gates:
            gate.set()
        await writer.close()
