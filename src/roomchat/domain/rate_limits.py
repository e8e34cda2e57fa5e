"""Requests per caller, counted against limits like "20/second;600/minute".

The ``limits`` library's moving window over its in-memory storage (as the login
throttle, domain/throttle.py): exact, and a caller's counts are forgotten once their
window has passed. Counted per instance: behind a balancer over N instances a caller
gets up to N times the limit (docs/server-api.md says so). Only authenticated callers
are counted, so the table holds at most one entry per key or user.
"""

from __future__ import annotations

import math
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from roomchat.errors import rate_limited


class RateLimiter:
    def __init__(self, limits: str, message: str) -> None:
        """``limits``: one or more ``N/period`` joined by ';' (ValueError when not)."""
        self._items = parse_many(limits)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._message = message

    def hit(self, caller: str) -> None:
        """Count one request of ``caller``; refuse it (429, not counted) past a limit."""
        for item in self._items:
            if not self._limiter.test(item, caller):
                reset_at = self._limiter.get_window_stats(item, caller).reset_time
                retry_ms = max(1, math.ceil((reset_at - time.time()) * 1000))
                raise rate_limited(self._message, min(retry_ms, int(item.get_expiry()) * 1000))
        for item in self._items:
            self._limiter.hit(item, caller)
