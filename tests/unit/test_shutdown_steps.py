"""Shutdown steps: each bounded, each run whatever the one before did, and our own
cancellation still stops the lot."""

from __future__ import annotations

import asyncio

import pytest

from roomchat.shutdown import run_step


async def cancelled_inside() -> None:
    """What aiokafka's stop() does with the broker gone: awaits a task it cancelled."""
    inner = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    inner.cancel()
    await inner


async def test_a_step_cancelled_from_inside_does_not_stop_the_next() -> None:
    ran: list[str] = []

    async def next_step() -> None:
        ran.append("next")

    assert await run_step("the bus", cancelled_inside, 1.0) is False
    assert await run_step("the store", next_step, 1.0) is True
    assert ran == ["next"]


async def test_a_step_that_hangs_is_given_up_after_its_bound() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await run_step("a hang", asyncio.Event().wait, 0.2) is False
    assert loop.time() - started < 2.0


async def test_a_failing_step_is_logged_in_one_line_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails() -> None:
        raise ConnectionResetError("gone")

    assert await run_step("the outbox relay", fails, 1.0) is False
    (record,) = [r for r in caplog.records if r.name == "roomchat.shutdown"]
    assert "the outbox relay failed (ConnectionResetError)" in record.getMessage()
    assert record.exc_info is None


async def test_our_own_cancellation_still_propagates() -> None:
    entered = asyncio.Event()

    async def slow() -> None:
        entered.set()
        await asyncio.sleep(10)

    stopping = asyncio.create_task(run_step("slow", slow, 30.0))
    await entered.wait()
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
