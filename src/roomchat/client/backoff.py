"""How long to wait before the next reconnection attempt."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter.

    The delay before attempt n is uniform in [0, min(cap, initial * 2**n)]: the jitter
    keeps thousands of clients cut off by the same restart from coming back in step
    (a thundering herd on the restarted server), and the cap keeps a client that was
    away a long time from waiting long once the server is back.
    """

    initial: float = 0.25
    cap: float = 15.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.cap < self.initial:
            raise ValueError("need 0 < initial <= cap")

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more attempt."""
        # initial * 2**n overflows a float near n = 1000; the cap is reached long before
        ceiling = self.cap if self.attempt > 60 else min(self.cap, self.initial * 2**self.attempt)
        self.attempt += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        """A connection succeeded: the next failure starts from ``initial`` again."""
        self.attempt = 0
