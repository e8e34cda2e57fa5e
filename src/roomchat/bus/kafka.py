"""The Kafka bus: every instance hears every room event, and knows when it stops hearing.

* One topic, keyed by room_id, so a room's events stay in order (one partition each).
  The value is the event's encoded data, the rest travels in headers.
* Every instance reads every partition, without a consumer group, from the end of the
  log at start-up: a room event is for every instance's clients, not for one of them.
* Durable room events come from the outbox relay (roomchat/outbox): ``publish`` returns
  once the broker acknowledged them, or raises and counts the broker as down; the
  relay keeps them in the outbox until it is back. Signals (typing) are ephemeral:
  dropped while the broker is away, and when they arrive too late.
* Heartbeats: each instance sends one to every partition every
  ``heartbeat_interval_s``; hearing its own come back proves that the whole path
  works. None back within ``deaf_after_s``: the instance is deaf, /readyz says so.
* The broker unreachable at start-up does not stop the instance: it serves its own
  clients and keeps trying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from roomchat.bus.base import BusError, OnEvent, OnSignal
from roomchat.bus.kafka_records import (
    HEARTBEAT,
    decode,
    event_headers,
    heartbeat_headers,
    room_key,
    signal_headers,
)
from roomchat.bus.lost_logs import LostLogs
from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.shutdown import inner_cancellation_suppressed

log = logging.getLogger(__name__)

TOPIC_EXISTS = 36  # TOPIC_ALREADY_EXISTS


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    """What the Kafka bus needs to know (from the ROOMCHAT_KAFKA_* settings)."""

    bootstrap_servers: str
    topic: str
    origin: str  # this instance's id
    partitions: int = 6  # when roomchat creates the topic
    replication_factor: int = 1
    linger_ms: int = 1
    fetch_max_wait_ms: int = 5
    produce_timeout_s: float = 5.0  # a send not acknowledged by then: the broker is down
    connect_timeout_s: float = 5.0
    retry_interval_s: float = 0.5
    heartbeat_interval_s: float = 2.0
    deaf_after_s: float = 10.0
    signal_ttl_s: float = 5.0  # signals older than this when they arrive are dropped


class KafkaBus:
    shared = True

    def __init__(self, config: KafkaConfig) -> None:
        self._config = config
        self._servers = config.bootstrap_servers
        self._topic = config.topic
        self._origin = config.origin
        self._client_id = f"roomchat-{self._origin}"
        self._on_event: OnEvent | None = None
        self._on_signal: OnSignal | None = None
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._up = asyncio.Event()  # the broker takes what we send
        self._closing = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._signal_sends: set[asyncio.Task[None]] = set()
        self._connected_at: float | None = None
        self._started_wall: float | None = None
        # A lost log is one that stays short of our position for as long as a deaf
        # instance is allowed to hear nothing (it is deaf on that partition meanwhile).
        self._lost_logs = LostLogs(config.deaf_after_s)
        self._heard: dict[int, float] = {}  # partition -> when our heartbeat came back
        self._next_heartbeat = 0.0
        self._rtt_ms: float | None = None
        self._lag: int | None = None
        self._error: str | None = None
        self._signals_dropped = 0

    async def start(self, on_event: OnEvent, on_signal: OnSignal) -> None:
        self._on_event, self._on_signal = on_event, on_signal
        self._started_wall = time.time()
        try:
            await asyncio.wait_for(self._connect(), self._config.connect_timeout_s)
        except Exception as exc:
            self._mark_down(exc)
            log.warning(
                "Kafka at %s is unreachable (%s): serving this instance's clients only, "
                "keeping messages in the outbox, retrying every %.1fs",
                self._servers,
                _describe(exc),
                self._config.retry_interval_s,
            )
        self._tasks.append(asyncio.create_task(self._supervise(), name="roomchat-kafka-supervise"))

    def is_up(self) -> bool:
        return self._up.is_set()

    async def until_up(self) -> None:
        await self._up.wait()

    def signal(self, signal: RoomSignal) -> None:
        # Ephemeral: sent only while the broker is known to be there, never queued.
        if not self._up.is_set() or len(self._signal_sends) >= 1000:
            self._signals_dropped += 1
            return
        task = asyncio.create_task(self._send_signal(signal))
        self._signal_sends.add(task)
        task.add_done_callback(self._signal_sends.discard)

    async def close(self) -> None:
        self._closing.set()
        for task in [*self._tasks, *self._signal_sends]:
            task.cancel()
        for task in [*self._tasks, *self._signal_sends]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._disconnect()

    def health(self) -> dict[str, Any]:
        now = time.monotonic()
        connected = self._producer is not None
        heard_age: float | None = None
        if connected and self._connected_at is not None:
            heard = [self._heard.get(tp.partition, self._connected_at) for tp in self._partitions]
            heard_age = now - min(heard, default=self._connected_at)
        deaf = heard_age is None or heard_age > self._config.deaf_after_s
        report: dict[str, Any] = {
            "ok": connected and self._up.is_set() and not deaf,
            "kind": "kafka",
            "connected": connected,
            "up": self._up.is_set(),
            "deaf": deaf,
            "heard_own_heartbeat_s_ago": None if heard_age is None else round(heard_age, 3),
            "heartbeat_rtt_ms": self._rtt_ms,
            "lag": self._lag,
            "partitions": len(self._partitions),
            "typing_dropped": self._signals_dropped,
        }
        if self._error and not report["ok"]:
            report["error"] = self._error
        return report

    # -- connecting -----------------------------------------------------------------

    async def _connect(self) -> None:
        c = self._config
        await self._ensure_topic()
        producer = AIOKafkaProducer(
            bootstrap_servers=self._servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=False,  # brokers without InitProducerId refuse it
            linger_ms=c.linger_ms,
            request_timeout_ms=int(c.produce_timeout_s * 1000),
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            client_id=self._client_id,
            group_id=None,  # every instance reads everything
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=c.fetch_max_wait_ms,
        )
        self._producer, self._consumer = producer, consumer
        try:
            await self._start_clients(producer, consumer)
        except BaseException:
            await self._disconnect()
            raise
        self._connected_at = time.monotonic()
        self._heard.clear()
        self._lost_logs.forget()  # a new consumer, at positions of its own
        self._tasks.append(asyncio.create_task(self._consume(consumer), name="roomchat-kafka-in"))
        self._set_up()
        log.info(
            "Kafka at %s: reading %d partitions of %s",
            self._servers,
            len(self._partitions),
            self._topic,
        )

    async def _seek_start(self, consumer: AIOKafkaConsumer) -> None:
        """From the end of the log; or, connecting late, from when this instance started.

        An instance that started without Kafka has clients that joined rooms since:
        the events other instances published meanwhile are theirs too.
        """
        await consumer.seek_to_end(*self._partitions)
        if self._started_wall is None or time.time() - self._started_wall < 2:
            return
        found = await consumer.offsets_for_times(
            {tp: int(self._started_wall * 1000) for tp in self._partitions}
        )
        for tp, offset in found.items():
            if offset is not None:
                consumer.seek(tp, offset.offset)

    async def _start_clients(self, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer) -> None:
        await producer.start()
        await consumer.start()
        partitions = consumer.partitions_for_topic(self._topic)
        if not partitions:
            await consumer.topics()  # a metadata refresh
            partitions = consumer.partitions_for_topic(self._topic)
        if not partitions:
            raise BusError(f"topic {self._topic} has no partitions", retriable=True)
        self._partitions = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        consumer.assign(self._partitions)
        await self._seek_start(consumer)
        for tp in self._partitions:
            await consumer.position(tp)  # resolve "the end" now, not at the first fetch

    async def _ensure_topic(self) -> None:
        """Create the topic if missing (a broker that lost its log lost the topic too)."""
        c = self._config
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._servers,
            client_id=self._client_id,
            request_timeout_ms=int(c.produce_timeout_s * 1000),
        )
        await admin.start()
        try:
            response = await admin.create_topics(
                [NewTopic(self._topic, c.partitions, c.replication_factor)]
            )
        finally:
            await admin.close()
        for _topic, code, *message in response.topic_errors:
            if code not in (0, TOPIC_EXISTS):
                raise BusError(f"creating topic {self._topic}: error {code} {message}", True)

    async def _disconnect(self) -> None:
        self._up.clear()
        producer, consumer = self._producer, self._consumer
        self._producer = self._consumer = None
        for client in (consumer, producer):
            if client is not None:
                # With the broker gone, the consumer's stop() raises a CancelledError of
                # its own: the producer must still be stopped (shutdown.py).
                with contextlib.suppress(Exception), inner_cancellation_suppressed():
                    await asyncio.wait_for(client.stop(), 5)

    def _set_up(self) -> None:
        if not self._up.is_set():
            self._up.set()
            self._error = None

    def _mark_down(self, exc: BaseException) -> None:
        if self._up.is_set():
            log.warning(
                "Kafka at %s stopped taking events (%s); messages wait in the outbox",
                self._servers,
                _describe(exc),
            )
        self._up.clear()
        self._error = _describe(exc)

    # -- the watch loop ---------------------------------------------------------------

    async def _supervise(self) -> None:
        c = self._config
        while not self._closing.is_set():
            try:
                if self._producer is None:
                    await asyncio.wait_for(self._connect(), c.connect_timeout_s)
                    log.warning("Kafka at %s reachable again", self._servers)
                elif not self._up.is_set():
                    await asyncio.wait_for(self._ensure_topic(), c.produce_timeout_s)
                    await self._check_positions(after_outage=True)
                    self._set_up()
                    log.warning("Kafka at %s takes events again", self._servers)
                else:
                    await self._check_positions()
                    if time.monotonic() >= self._next_heartbeat:
                        await self._heartbeat()
            except Exception as exc:
                self._mark_down(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), c.retry_interval_s)

    async def _check_positions(self, after_outage: bool = False) -> None:
        """Measure lag; re-read partitions whose log the broker lost (bus/lost_logs.py:
        an end that stays short of our position, never one answer, outage or not)."""
        consumer = self._consumer
        if consumer is None:
            return
        if after_outage:
            self._lost_logs.forget()
        # Positions first: read after them, a log that was not lost ends at or past them.
        positions = {tp: await consumer.position(tp) for tp in self._partitions}
        ends = await asyncio.wait_for(
            consumer.end_offsets(self._partitions), self._config.produce_timeout_s
        )
        lag = 0
        now = time.monotonic()
        for tp, position in positions.items():
            end = ends.get(tp, 0)
            # Meanwhile the hub's sweep delivers to joined rooms what this misses.
            if self._lost_logs.lost(tp.partition, position, end, now):
                log.warning(
                    "partition %d of %s ended before our position for %.0fs (at %d, we are "
                    "at %d): the broker lost its log; reading the partition from its start",
                    tp.partition,
                    self._topic,
                    self._config.deaf_after_s,
                    end,
                    position,
                )
                await consumer.seek_to_beginning(tp)
                position = await consumer.position(tp)
            lag += max(0, end - position)
        self._lag = lag

    async def _heartbeat(self) -> None:
        producer = self._producer
        if producer is None:
            return
        self._next_heartbeat = time.monotonic() + self._config.heartbeat_interval_s
        headers = heartbeat_headers(self._origin)
        value = repr(time.monotonic()).encode()

        async def send_all() -> None:
            futures = [
                await producer.send(self._topic, value, partition=tp.partition, headers=headers)
                for tp in self._partitions
            ]
            await asyncio.gather(*futures)

        await asyncio.wait_for(send_all(), self._config.produce_timeout_s)

    # -- sending ------------------------------------------------------------------------

    async def publish(self, events: Sequence[RoomEvent]) -> None:
        producer = self._producer
        if producer is None or not self._up.is_set():
            raise BusError("Kafka is not connected", retriable=True)

        async def send_all() -> None:
            futures = [
                await producer.send(
                    self._topic,
                    event.frame,
                    key=room_key(event.room_id),
                    headers=event_headers(event),
                )
                for event in events
            ]
            await asyncio.gather(*futures)

        try:
            await asyncio.wait_for(send_all(), self._config.produce_timeout_s)
        except Exception as exc:
            self._mark_down(exc)
            raise BusError(f"Kafka did not take the events: {_describe(exc)}", True) from exc

    async def _send_signal(self, signal: RoomSignal) -> None:
        producer = self._producer
        if producer is None:
            return
        try:
            delivery = await asyncio.wait_for(
                producer.send(
                    self._topic,
                    signal.frame,
                    key=room_key(signal.room_id),
                    headers=signal_headers(signal),
                ),
                self._config.produce_timeout_s,
            )
        except Exception as exc:
            self._signals_dropped += 1
            log.debug("signal not sent: %s", _describe(exc))
            return
        # Nobody waits for the broker's answer, but a failed one must be taken: else
        # asyncio logs "Future exception was never retrieved" when it is collected.
        delivery.add_done_callback(self._signal_delivered)

    def _signal_delivered(self, delivery: asyncio.Future[Any]) -> None:
        if not delivery.cancelled() and delivery.exception() is not None:
            self._signals_dropped += 1

    # -- receiving ----------------------------------------------------------------------

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        signal_ttl_ms = self._config.signal_ttl_s * 1000
        while not self._closing.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reading from Kafka failed: %s", _describe(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self._config.retry_interval_s)
                continue
            now_ms = time.time() * 1000
            for tp, records in batches.items():
                for record in records:
                    try:
                        self._on_record(tp.partition, record, now_ms, signal_ttl_ms)
                    except Exception:
                        log.exception("dropping a record at offset %d", record.offset)

    def _on_record(self, partition: int, record: Any, now_ms: float, signal_ttl_ms: float) -> None:
        headers = record.headers
        found = decode(headers, record.value or b"")
        if isinstance(found, RoomEvent):
            assert self._on_event is not None
            self._on_event(found)
        elif isinstance(found, RoomSignal):
            if now_ms - record.timestamp > signal_ttl_ms:
                return  # a stale signal (the broker held it while away): never replayed
            assert self._on_signal is not None
            self._on_signal(found)
        else:
            h = dict(headers)
            if h.get("kind") == HEARTBEAT and h.get("origin") == self._origin.encode():
                now = time.monotonic()
                self._heard[partition] = now
                self._rtt_ms = round((now - float(record.value)) * 1000, 2)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
