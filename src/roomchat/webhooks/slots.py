"""Request slots shared fairly between workspaces.

One pool bounds the webhook requests an instance has in flight; inside it, each
workspace has a budget of its own. A workspace whose receivers hang holds at most its
budget, never the whole pool, and a freed slot goes to the waiting workspace with the
fewest requests in flight (the one waiting longest among equals): a quiet workspace
never queues behind another's backlog, at worst behind the one request to finish
first.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class SlotPool:
    def __init__(self, total: int, per_workspace: int) -> None:
        self._total = max(1, total)
        self._per_workspace = max(1, min(per_workspace, self._total))
        self._busy = 0
        self._in_flight: dict[int, int] = {}
        # workspace -> its waiters, oldest first, each with its place in the line
        self._waiting: dict[int, deque[tuple[int, asyncio.Future[None]]]] = {}
        self._line = itertools.count()

    @property
    def busy(self) -> int:
        """Slots in use now."""
        return self._busy

    @asynccontextmanager
    async def slot(self, workspace_id: int) -> AsyncIterator[None]:
        await self._acquire(workspace_id)
        try:
            yield
        finally:
            self._release(workspace_id)

    async def _acquire(self, workspace_id: int) -> None:
        # A free slot nobody waiting can use (each release hands slots out to every
        # waiter that may take one), unless this workspace has waiters of its own first.
        if self._may_take(workspace_id) and not self._waiting.get(workspace_id):
            self._take(workspace_id)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiting.setdefault(workspace_id, deque())
        waiters.append((next(self._line), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(workspace_id)  # granted as it was cancelled: hand it on
            else:
                self._forget(workspace_id, granted)
            raise

    def _forget(self, workspace_id: int, granted: asyncio.Future[None]) -> None:
        waiters = self._waiting.get(workspace_id)
        if waiters is None:
            return
        for waiter in waiters:
            if waiter[1] is granted:
                waiters.remove(waiter)
                break
        if not waiters:
            del self._waiting[workspace_id]

    def _may_take(self, workspace_id: int) -> bool:
        return (
            self._busy < self._total and self._in_flight.get(workspace_id, 0) < self._per_workspace
        )

    def _take(self, workspace_id: int) -> None:
        self._busy += 1
        self._in_flight[workspace_id] = self._in_flight.get(workspace_id, 0) + 1

    def _release(self, workspace_id: int) -> None:
        self._busy -= 1
        left = self._in_flight[workspace_id] - 1
        if left:
            self._in_flight[workspace_id] = left
        else:
            del self._in_flight[workspace_id]
        self._hand_out()

    def _hand_out(self) -> None:
        while self._busy < self._total:
            eligible = [
                (self._in_flight.get(workspace_id, 0), waiters[0][0], workspace_id)
                for workspace_id, waiters in self._waiting.items()
                if self._in_flight.get(workspace_id, 0) < self._per_workspace
            ]
            if not eligible:
                return
            _, _, workspace_id = min(eligible)
            waiters = self._waiting[workspace_id]
            _, granted = waiters.popleft()
            if not waiters:
                del self._waiting[workspace_id]
            if granted.done():
                continue  # cancelled while waiting: its task forgets it
            self._take(workspace_id)
            granted.set_result(None)
