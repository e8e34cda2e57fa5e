"""Stopping in steps: each one bounded, and each one runs whatever the one before did.

A library's ``stop()`` may raise ``CancelledError`` without anyone cancelling us
(aiokafka's, with the broker gone, awaits a task it cancelled itself). That is a
``BaseException``: ``except Exception`` lets it through, and every later step would be
skipped. Only ``asyncio.current_task().cancelling()`` tells it from our own
cancellation, which must go on propagating.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


def cancelled_from_outside() -> bool:
    """True when the running task itself is being cancelled (not some task it awaits)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@contextmanager
def inner_cancellation_suppressed() -> Iterator[None]:
    """A ``CancelledError`` raised by what the block awaits ends the block quietly; our own
    task's cancellation still propagates."""
    try:
        yield
    except asyncio.CancelledError:
        if cancelled_from_outside():
            raise


async def run_step(name: str, step: Callable[[], Awaitable[object]], timeout_s: float) -> bool:
    """Run one shutdown step for at most ``timeout_s``; True if it finished.

    A step that fails, times out or is cancelled from inside is logged in one line (no
    traceback: the instance is stopping as asked) and the caller goes on with the next.
    """
    bound = asyncio.timeout(timeout_s)
    try:
        with inner_cancellation_suppressed():
            async with bound:
                await step()
            return True
        log.warning("shutdown: %s was cancelled from inside; going on", name)
    except Exception as exc:
        if isinstance(exc, TimeoutError) and bound.expired():
            log.warning("shutdown: %s did not finish within %.0fs; going on", name, timeout_s)
        else:
            log.warning("shutdown: %s failed (%s); going on", name, type(exc).__name__)
    return False
