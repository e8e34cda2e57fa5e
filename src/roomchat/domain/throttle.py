"""Login and registration throttling: failed logins per account and per client address.

Counting is the ``limits`` library's sliding-window counter over its in-memory
storage: two counters per key, forgotten two windows after the last failure, so a
lock-out always ends by itself. The limits are per instance (behind a load balancer
an attacker gets the limit once per instance); docs/security.md says so.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from roomchat.errors import rate_limited

log = logging.getLogger(__name__)

# Past this many tracked keys (~20 MB of counters) a new key is not tracked but
# refused: an attacker rotating addresses and names must not grow the server
# without bound, nor slip past the per-account limit once the table is full.
MAX_TRACKED_KEYS = 100_000


def address_key(host: str) -> str:
    """The client address as throttled: an IPv6 client usually owns its whole /64."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    keys: tuple[tuple[RateLimitItem, str], ...]


class LoginThrottle:
    def __init__(self, per_account: str, per_address: str, register_per_address: str) -> None:
        self._storage = MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)
        self._register = parse(register_per_address)
        # Attempts being checked right now, counted as failures until they are not:
        # a burst of concurrent guesses cannot all pass the check before any fails.
        self._inflight: Counter[str] = Counter()

    def begin_login(self, account: str | None, address: str) -> LoginAttempt:
        """Refuse (429) when the account or the address is over its limit of failures."""
        where = address_key(address)
        keys = [(self._per_address, f"address:{where}")]
        if account is not None:
            # The account's failures are counted per address: an attacker guessing from
            # elsewhere cannot lock its owner out (a per-account total would let anyone
            # keep any account refused for as long as they keep failing).
            keys.insert(0, (self._per_account, f"account:{account}@{where}"))
        for item, key in keys:
            self._check(item, key, "too many failed logins; try again later")
        for item, key in keys:
            self._inflight[item.key_for(key)] += 1
        return LoginAttempt(tuple(keys))

    def end_login(self, attempt: LoginAttempt, failed: bool) -> None:
        for item, key in attempt.keys:
            slot = item.key_for(key)
            self._inflight[slot] -= 1
            if self._inflight[slot] <= 0:
                del self._inflight[slot]
            if failed:
                self._limiter.hit(item, key)

    def register(self, address: str) -> None:
        """Count one registration from ``address``; refuse (429) past the limit."""
        key = f"register:{address_key(address)}"
        self._check(self._register, key, "too many registrations from your address; try later")
        self._limiter.hit(self._register, key)

    def _check(self, item: RateLimitItem, key: str, message: str) -> None:
        pending = self._inflight.get(item.key_for(key), 0)
        if self._limiter.test(item, key, cost=pending + 1):
            if not pending:
                self._make_room(item, key)
            return
        reset_at, _remaining = self._limiter.get_window_stats(item, key)
        retry_ms = max(1, math.ceil((reset_at - time.time()) * 1000))
        # A failed pending attempt may still free nothing: never promise more than a window.
        raise rate_limited(message, min(retry_ms, int(item.get_expiry()) * 1000))

    def _make_room(self, item: RateLimitItem, key: str) -> None:
        """Keep the table bounded: when it is full and ``key`` is new, start it afresh.

        Refusing new keys instead would let whoever fills the table (with failures
        from many addresses) refuse every other user's login. Starting afresh gives
        an attacker new budgets once per MAX_TRACKED_KEYS failures, each of which
        cost them a password hash.
        """
        counters = getattr(self._storage, "storage", None)
        if counters is None or len(counters) < MAX_TRACKED_KEYS:
            return
        if self._limiter.get_window_stats(item, key)[1] < item.amount:
            return  # already counted
        log.warning("login throttle full (%d keys): starting its counts afresh", len(counters))
        self._storage.reset()
