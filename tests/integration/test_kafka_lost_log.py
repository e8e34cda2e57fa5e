"""The Kafka bus against a real broker (tansu): an end offset that trails for a moment
after an outage is not a lost log (nothing is heard twice), and a log the broker did
lose is still read again from its start.

The broker's own answers go to the bus's position check untouched, but for one: the
first after the outage, which trails what was fetched by one, as the issue measured
it (the decision code under test is the bus's own)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from roomchat.bus.base import BusError
from roomchat.bus.kafka import KafkaBus, KafkaConfig
from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.kinds import NEW_MESSAGE
from tests.support.cluster import until
from tests.support.kafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

ROOM = 3


def event(seq: int) -> RoomEvent:
    data = json.dumps({"room_id": ROOM, "seq": seq, "message_text": f"m{seq}"}).encode()
    return RoomEvent.build(ROOM, seq, NEW_MESSAGE, data, "elsewhere")


async def published(bus: KafkaBus, *events: RoomEvent, timeout: float = 20.0) -> None:
    """Publish as the outbox relay does: again once the broker takes events (a broker
    just restarted may refuse a send or two: tansu's racing writes at offset 0)."""

    async def publish() -> None:
        while True:
            try:
                await bus.publish(events)
                return
            except BusError as exc:
                assert exc.retriable
                await bus.until_up()

    await asyncio.wait_for(publish(), timeout)


class Heard:
    """Every event the bus handed over, in order."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self._changed = asyncio.Event()

    def event(self, heard: RoomEvent) -> None:
        self.seqs.append(heard.seq)
        self._changed.set()

    def signal(self, heard: RoomSignal) -> None:
        return None

    async def until(self, seq: int, timeout: float = 20.0) -> None:
        async def wait() -> None:
            while seq not in self.seqs:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)


class TrailingEnds:
    """The consumer's end offsets as the broker answers them; once armed, the next
    answer trails the consumer's position by one (a busy broker answering late)."""

    def __init__(self, consumer: AIOKafkaConsumer, bus: KafkaBus) -> None:
        self._consumer = consumer
        self._real = consumer.end_offsets
        self._bus = bus
        self._armed = False
        self.trailed_while_down: bool | None = None
        self.answers_since = 0
        self._answered = asyncio.Event()

    def arm(self) -> None:
        self._armed = True

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        ends: dict[TopicPartition, int] = await self._real(tps)
        if self._armed:
            self._armed = False
            self.trailed_while_down = not self._bus.is_up()
            return {tp: min(end, await self._consumer.position(tp)) - 1 for tp, end in ends.items()}
        if self.trailed_while_down is not None:
            self.answers_since += 1
            self._answered.set()
        return ends

    async def until_answered(self, count: int, timeout: float = 20.0) -> None:
        """Until the end was read ``count`` times since the trailing answer."""

        async def wait() -> None:
            while self.answers_since < count:
                self._answered.clear()
                await self._answered.wait()

        await asyncio.wait_for(wait(), timeout)


@pytest.fixture
async def started(broker: Broker) -> AsyncIterator[Callable[..., Any]]:
    broker.require_restartable()
    buses: list[KafkaBus] = []

    async def start(heard: Heard, **config: Any) -> KafkaBus:
        settings: dict[str, Any] = {
            "partitions": 1,
            "heartbeat_interval_s": 0.2,
            "deaf_after_s": 2.0,
            "produce_timeout_s": 1.0,
            "retry_interval_s": 0.1,
            **config,
        }
        bus = KafkaBus(KafkaConfig(broker.bootstrap, broker.topic(), "i1", **settings))
        buses.append(bus)
        await bus.start(heard.event, heard.signal)
        await asyncio.wait_for(bus.until_up(), 20)
        return bus

    yield start
    for bus in buses:
        await bus.close()


async def test_an_end_trailing_by_one_after_a_broker_freeze_is_not_a_lost_log(
    broker: Broker, started: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    heard = Heard()
    bus: KafkaBus = await started(heard)
    await bus.publish([event(seq) for seq in range(1, 6)])
    await heard.until(5)
    consumer = bus._consumer
    assert consumer is not None
    trailing = TrailingEnds(consumer, bus)
    monkeypatch.setattr(consumer, "end_offsets", trailing.end_offsets)

    broker.freeze()
    try:
        await until(lambda: not bus.is_up(), 20, "the bus sees the broker gone")
        trailing.arm()
    finally:
        broker.thaw()
    await asyncio.wait_for(bus.until_up(), 20)
    assert trailing.trailed_while_down  # the first check after the outage got it
    await trailing.until_answered(3)  # the end offset read again since

    await bus.publish([event(6)])
    await heard.until(6)
    assert heard.seqs == [1, 2, 3, 4, 5, 6]  # nothing read again from the start
    assert bus.health()["lag"] == 0


async def test_a_log_the_broker_lost_is_read_again_from_its_start(
    broker: Broker, started: Callable[..., Any]
) -> None:
    heard = Heard()
    # Heartbeats seldom: the new log must not grow past the old position meanwhile.
    # Four partitions, as tansu gives a topic a client's metadata request creates: the
    # bus's clients may recreate it that way before the bus does.
    bus: KafkaBus = await started(heard, heartbeat_interval_s=1.0, partitions=4)
    await bus.publish([event(seq) for seq in range(1, 31)])
    await heard.until(30)

    # tansu's memory storage: the log starts again at offset 0 (whether the bus saw an
    # outage depends on whether a send of its fell into the restart).
    broker.restart()
    await published(bus, event(31))
    await heard.until(31)
    assert heard.seqs == list(range(1, 32))
