"""TokenBucket: a burst up front, then a steady rate; idle time refills up to the burst."""

from __future__ import annotations

import pytest

from roomchat.realtime.connection import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def takes(bucket: TokenBucket, n: int) -> list[bool]:
    return [bucket.take() for _ in range(n)]


def test_the_burst_goes_through_then_the_bucket_refuses(clock: Clock) -> None:
    bucket = TokenBucket(rate=2, burst=3, clock=clock.monotonic)
    assert takes(bucket, 4) == [True, True, True, False]


def test_tokens_come_back_at_the_rate(clock: Clock) -> None:
    bucket = TokenBucket(rate=2, burst=2, clock=clock.monotonic)
    assert takes(bucket, 3) == [True, True, False]
    clock.now += 0.25  # half a token
    assert bucket.take() is False
    clock.now += 0.25  # a whole one
    assert takes(bucket, 2) == [True, False]


def test_idle_time_refills_no_more_than_the_burst(clock: Clock) -> None:
    bucket = TokenBucket(rate=10, burst=2, clock=clock.monotonic)
    assert takes(bucket, 2) == [True, True]
    clock.now += 3600
    assert takes(bucket, 3) == [True, True, False]


def test_refused_attempts_do_not_use_up_tokens(clock: Clock) -> None:
    bucket = TokenBucket(rate=1, burst=1, clock=clock.monotonic)
    assert bucket.take() is True
    for _ in range(5):
        clock.now += 0.1
        assert bucket.take() is False
    clock.now += 0.5  # 1.0 s since the last token was taken
    assert bucket.take() is True


def test_a_refusal_says_when_the_next_token_comes(clock: Clock) -> None:
    bucket = TokenBucket(rate=4, burst=1, clock=clock.monotonic)
    assert takes(bucket, 2) == [True, False]
    assert bucket.retry_after_ms() == 250
    clock.now += 0.1
    assert bucket.retry_after_ms() == 150
