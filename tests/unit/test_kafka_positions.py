"""When the Kafka bus decides the broker lost a partition's log and reads it again from
the start: a log that stays short of our position for deaf_after_s, over several
readings of its end, not an end offset that trails what was just fetched (a busy
broker, a new leader's high watermark), after an outage as much as without one."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition

from roomchat.bus import kafka
from roomchat.bus.kafka import KafkaBus, KafkaConfig

TP = TopicPartition("events", 0)


class Consumer:
    """Only what _check_positions asks of aiokafka's consumer."""

    def __init__(self) -> None:
        self.position_at = 0
        self.end = 0
        self.rewound = 0

    async def position(self, tp: TopicPartition) -> int:
        return self.position_at

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.end for tp in tps}

    async def seek_to_beginning(self, tp: TopicPartition) -> None:
        self.rewound += 1
        self.position_at = 0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(kafka.time, "monotonic", lambda: now[0])
    return now


def bus(consumer: Consumer) -> KafkaBus:
    made = KafkaBus(KafkaConfig("127.0.0.1:9", "events", "i1", deaf_after_s=10.0))
    made._consumer = consumer  # type: ignore[assignment]
    made._partitions = [TP]
    return made


async def check(b: KafkaBus, consumer: Consumer, position: int, end: int, **kw: Any) -> None:
    consumer.position_at, consumer.end = position, end
    await b._check_positions(**kw)


async def test_an_end_offset_trailing_for_seconds_is_not_a_lost_log(clock: list[float]) -> None:
    consumer = Consumer()
    b = bus(consumer)
    # Under load the end offset trails what was fetched by more than a check interval.
    for step in range(18):
        await check(b, consumer, 10_000 + step * 5_000, 2_000 + step * 5_000)
        clock[0] += 0.5
    assert consumer.rewound == 0


async def test_a_log_short_of_our_position_for_long_is_read_again(clock: list[float]) -> None:
    consumer = Consumer()
    b = bus(consumer)
    await check(b, consumer, 50_000, 120)  # the broker came back with a new, short log
    clock[0] += 5
    await check(b, consumer, 50_000, 400)
    assert consumer.rewound == 0  # not yet: it might still be a trailing end
    clock[0] += 6
    await check(b, consumer, 50_000, 700)
    assert consumer.rewound == 1 and consumer.position_at == 0


async def test_after_an_outage_an_end_trailing_by_one_is_not_a_lost_log(
    clock: list[float],
) -> None:
    consumer = Consumer()
    b = bus(consumer)
    # The broker is back; its first answer trails the position fetched before by one.
    await check(b, consumer, 5_854, 5_853, after_outage=True)
    assert consumer.rewound == 0
    clock[0] += 0.5
    await check(b, consumer, 5_854, 5_854)  # read again: it was there all along
    clock[0] += 20
    await check(b, consumer, 5_860, 5_859)  # trailing again later: a new suspicion
    assert consumer.rewound == 0


async def test_after_an_outage_a_log_that_stays_short_is_read_again(clock: list[float]) -> None:
    consumer = Consumer()
    b = bus(consumer)
    await check(b, consumer, 50_000, 10, after_outage=True)
    for _ in range(19):
        clock[0] += 0.5
        await check(b, consumer, 50_000, 12)
    assert consumer.rewound == 0  # short for 9.5 s: not yet
    clock[0] += 0.5
    await check(b, consumer, 50_000, 14)
    assert consumer.rewound == 1 and consumer.position_at == 0


async def test_what_was_seen_before_an_outage_does_not_decide_after_it(
    clock: list[float],
) -> None:
    consumer = Consumer()
    b = bus(consumer)
    await check(b, consumer, 8_000, 7_999)  # trailing just before the broker froze
    clock[0] += 30  # frozen for longer than deaf_after_s
    await check(b, consumer, 8_000, 7_999, after_outage=True)  # trailing once more
    assert consumer.rewound == 0
    clock[0] += 0.5
    await check(b, consumer, 8_000, 8_000)
    assert consumer.rewound == 0


async def test_a_frozen_instance_reads_the_end_again_before_deciding(clock: list[float]) -> None:
    consumer = Consumer()
    b = bus(consumer)
    await check(b, consumer, 8_000, 7_999)
    clock[0] += 30  # this instance froze (no outage seen): one more trailing answer
    await check(b, consumer, 8_000, 7_999)
    assert consumer.rewound == 0
    clock[0] += 0.5
    await check(b, consumer, 8_000, 8_000)
    assert consumer.rewound == 0
