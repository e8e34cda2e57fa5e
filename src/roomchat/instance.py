"""The composition root: one running roomchat, apart from the ASGI app.

An ``Instance`` is every part built from Settings (wiring.py, where each part gets its
collaborators through its constructor); ``start()`` sets the background parts going and
``close()`` stops them in order, each step bounded. app.py builds the ASGI app around
one; a script or a test may run one without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from roomchat import __version__
from roomchat.bus.base import Bus
from roomchat.bus.memory import MemoryBus
from roomchat.metrics import serve_separately
from roomchat.settings import Settings
from roomchat.shutdown import run_step
from roomchat.wiring import build_services

log = logging.getLogger("roomchat")
# Each shutdown step's bound: well past a healthy step's time (the outbox relay's grace
# is 5 s, the broker clients' stops 5 s each), and the next step runs after it anyway.
SHUTDOWN_STEP_TIMEOUT_S = 15.0

Step = tuple[str, Callable[[], Awaitable[object]]]


def build_bus(settings: Settings) -> Bus:
    if settings.kafka_bootstrap_servers:
        # Only instances that use Kafka import it.
        from roomchat.bus.kafka import KafkaBus, KafkaConfig

        return KafkaBus(
            KafkaConfig(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic=settings.kafka_topic,
                origin=settings.instance_id,
                partitions=settings.kafka_partitions,
                replication_factor=settings.kafka_replication_factor,
                linger_ms=settings.kafka_linger_ms,
                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                produce_timeout_s=settings.kafka_produce_timeout_s,
                connect_timeout_s=settings.kafka_connect_timeout_s,
                retry_interval_s=settings.kafka_retry_interval_s,
                heartbeat_interval_s=settings.kafka_heartbeat_interval_s,
                deaf_after_s=settings.kafka_deaf_after_s,
                signal_ttl_s=settings.kafka_typing_ttl_s,
            )
        )
    return MemoryBus()


class Instance:
    """One roomchat instance's parts: built here, started by ``start``, stopped by ``close``.

    ``services`` is the view the transports read (REST routes through api/deps.py, the
    WebSocket gateway); the lifecycle stays here, out of their reach.
    """

    def __init__(self, settings: Settings, bus: Bus) -> None:
        self.settings = settings
        self.services = build_services(settings, bus)
        self._stop_metrics_server: Callable[[], None] | None = None

    async def start(self) -> None:
        s, settings = self.services, self.settings
        if settings.metrics_address:
            self._stop_metrics_server = serve_separately(
                s.metrics, s.metrics_access, settings.metrics_address
            )
        s.gateway.sinks.announce()
        s.messages.start()
        s.hub.start()
        s.presence.start()
        await s.bus.start(s.fanout.event_from_bus, s.fanout.signal_from_bus)
        if s.outbox is not None:
            s.outbox.start()
        await s.sockets.start()
        s.webhook_dispatcher.start()
        if s.attachments is not None:
            s.attachments.start()
        log.info(
            "roomchat %s instance %s ready (bus: %s)",
            __version__,
            settings.instance_id,
            s.bus.health().get("kind"),
        )

    async def close(self) -> None:
        """Stop every part in order: each step bounded, and each runs whatever the one
        before did (failed, timed out, or raised a CancelledError of its own)."""
        finished = [
            await run_step(name, step, SHUTDOWN_STEP_TIMEOUT_S) for name, step in self._steps()
        ]
        if all(finished):
            log.info("roomchat stopped cleanly")
        else:
            log.warning("roomchat stopped; %d shutdown steps did not finish", finished.count(False))

    def _steps(self) -> list[Step]:
        s = self.services
        steps: list[Step] = []
        stop_metrics_server = self._stop_metrics_server
        if stop_metrics_server is not None:
            steps.append(("the metrics server", lambda: asyncio.to_thread(stop_metrics_server)))
        if s.attachments is not None:
            steps.append(("the attachment sweep", s.attachments.close))
        # Its leases handed back: another instance delivers those endpoints from now.
        steps.append(("the webhook dispatcher", s.webhook_dispatcher.close))
        # The writer first, then the outbox: what it stores last still reaches the bus
        # before the bus closes.
        steps.append(("the token revocation poll", s.sockets.close))
        steps.append(("the message writer", s.messages.close))
        if s.outbox is not None:
            steps.append(("the outbox relay", s.outbox.close))
        steps += [
            ("the bus", s.bus.close),
            ("presence", s.presence.close),
            ("room activity", s.activity.close),
            ("the hub", s.hub.close),
            ("the store", s.store.close),
        ]
        return steps
