"""Request slots shared between workspaces (webhooks/slots.py): a workspace holds at
most its budget, a freed slot goes to the workspace with the fewest in flight, and a
waiter that gives up leaves nothing behind."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from roomchat.webhooks.slots import SlotPool


async def _waiting(pool: SlotPool, workspace_id: int, order: list[int]) -> None:
    async with pool.slot(workspace_id):
        order.append(workspace_id)
        await asyncio.Event().wait()  # held until cancelled


async def _settle() -> None:
    """Let every task that can run now run (each waiter gets to its first await)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_workspace_holds_at_most_its_budget_and_others_go_on() -> None:
    pool = SlotPool(total=4, per_workspace=2)
    order: list[int] = []
    tasks = [asyncio.create_task(_waiting(pool, 1, order)) for _ in range(5)]
    await _settle()
    assert order == [1, 1] and pool.busy == 2  # the other three wait for workspace 1's
    async with asyncio.timeout(1), pool.slot(2), pool.slot(2):
        assert pool.busy == 4
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert pool.busy == 0


async def test_a_freed_slot_goes_to_the_workspace_with_fewest_in_flight() -> None:
    pool = SlotPool(total=2, per_workspace=2)
    order: list[int] = []
    async with AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(pool.slot(1))
        # Workspace 1 queues first, workspace 2 after it.
        queued = [asyncio.create_task(_waiting(pool, w, order)) for w in (1, 1, 2)]
        await _settle()
        assert order == []
    # Both of workspace 1's slots freed: one to workspace 2 (none in flight), one to 1.
    await _settle()
    assert sorted(order) == [1, 2] and pool.busy == 2
    for task in queued:
        task.cancel()
    await asyncio.gather(*queued, return_exceptions=True)


async def test_the_freed_slot_skips_a_busier_workspace_waiting_longer() -> None:
    pool = SlotPool(total=3, per_workspace=2)
    order: list[int] = []
    async with AsyncExitStack() as first:
        await first.enter_async_context(pool.slot(1))
        holders = [asyncio.create_task(_waiting(pool, w, order)) for w in (1, 3)]
        await _settle()
        assert sorted(order) == [1, 3]
        late = [asyncio.create_task(_waiting(pool, w, order)) for w in (1, 2)]
        await _settle()
        assert len(order) == 2
    # Workspace 1 (one in flight) waited longer, workspace 2 (none) gets the slot.
    await _settle()
    assert order[2:] == [2]
    for task in holders + late:
        task.cancel()
    await asyncio.gather(*holders, *late, return_exceptions=True)
    assert pool.busy == 0


async def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    pool = SlotPool(total=1, per_workspace=1)
    order: list[int] = []
    async with pool.slot(1):
        gave_up = asyncio.create_task(_waiting(pool, 2, order))
        await _settle()
        gave_up.cancel()
        await asyncio.gather(gave_up, return_exceptions=True)
    assert pool.busy == 0
    async with asyncio.timeout(1), pool.slot(2):
        assert pool.busy == 1
    assert order == []
