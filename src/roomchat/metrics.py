"""What an instance counts, for ``GET /metrics`` (prometheus-client, text format).

One ``Metrics`` per app (its own registry), every series labelled with the instance
id and nothing per user or per room, so label sets stay bounded. The hot paths
count per broadcast, per batch and per reply, never per recipient: a broadcast adds
its recipient count to ``roomchat_deliveries_total`` in one step. What is a level
rather than a count (open connections, the outbox backlog, the bus's lag and
health) is read from its owner when scraped, at no cost in between.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds from a send's frame arriving to its reply being queued.
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

Level = Callable[[], float | None]


class _Levels(Collector):
    """Gauges read from their owners at scrape time."""

    def __init__(self, instance: str) -> None:
        self._instance = instance
        self._levels: list[tuple[str, str, Level]] = []

    def add(self, name: str, documentation: str, read: Level) -> None:
        self._levels.append((name, documentation, read))

    def collect(self) -> Iterator[Metric]:
        for name, documentation, read in self._levels:
            value = read()
            if value is None:
                continue  # not known on this instance (no Kafka, no outbox)
            family = GaugeMetricFamily(name, documentation, labels=["instance"])
            family.add_metric([self._instance], float(value))
            yield family


class Metrics:
    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.registry = CollectorRegistry(auto_describe=False)
        self._levels = _Levels(instance)
        self.registry.register(self._levels)
        labels = ["instance"]
        reg = self.registry

        def counter(name: str, documentation: str) -> Counter:
            return Counter(name, documentation, labels, registry=reg)

        self.messages_stored = counter(
            "roomchat_messages_stored", "Messages stored (replays of a client_msg_id not counted)"
        ).labels(instance)
        self.broadcasts = counter(
            "roomchat_broadcasts", "Durable room events fanned out to this instance's sockets"
        ).labels(instance)
        self.deliveries = counter(
            "roomchat_deliveries", "Frames of durable room events queued to joined sockets"
        ).labels(instance)
        self.gaps_filled = counter(
            "roomchat_gaps_filled", "Gaps in a room's seq filled from the database"
        ).labels(instance)
        self.sweeps_found = counter(
            "roomchat_sweeps_found",
            "Sweeps that found a room's last events missing and read them from the database",
        ).labels(instance)
        self.slow_clients = counter(
            "roomchat_slow_clients_disconnected", "Connections closed 1013 for not reading"
        ).labels(instance)
        self._rate_limited = Counter(
            "roomchat_rate_limited",
            "rate_limited replies, by kind (the WebSocket action, or http)",
            [*labels, "kind"],
            registry=reg,
        )
        self._errors = Counter(
            "roomchat_errors",
            "Error replies by code (WebSocket and REST)",
            [*labels, "code"],
            registry=reg,
        )
        self._webhook_deliveries = Counter(
            "roomchat_webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, failed, blocked)",
            [*labels, "outcome"],
            registry=reg,
        )
        # Where join replies' history came from: memory (domain/recent.py) or database.
        self.join_history = Counter(
            "roomchat_join_history",
            "Join replies by where their history came from (memory or database)",
            [*labels, "source"],
            registry=reg,
        )
        self.send_ack = Histogram(
            "roomchat_send_ack_seconds",
            "From a send_room_chat_message frame arriving to its reply being queued",
            labels,
            buckets=_ACK_BUCKETS,
            registry=reg,
        ).labels(instance)
        self.batch_size = Histogram(
            "roomchat_commit_batch_size",
            "Sends stored per group commit",
            labels,
            buckets=_BATCH_BUCKETS,
            registry=reg,
        ).labels(instance)

    def error(self, code: str, kind: str) -> None:
        """An error reply of ``code`` to a ``kind`` request (an action name, or http)."""
        self._errors.labels(self.instance, code).inc()
        if code == "rate_limited":
            self._rate_limited.labels(self.instance, kind).inc()

    def webhook_delivery(self, outcome: str) -> None:
        self._webhook_deliveries.labels(self.instance, outcome).inc()

    def level(self, name: str, documentation: str, read: Level) -> None:
        """A gauge whose value ``read`` gives when scraped (None: leave it out)."""
        self._levels.add(name, documentation, read)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    """Who may read /metrics: with a token, whoever presents it; without one, only
    loopback clients of the public port (a metrics address is the operator's own)."""

    token: str | None
    separate_address: bool

    def refusal(self, authorization: str | None, client_host: str | None, public: bool) -> int:
        """0 to serve; else the HTTP status to answer with."""
        if public and self.separate_address:
            return 404  # served on the metrics address only
        if self.token is not None:
            scheme, _, given = (authorization or "").partition(" ")
            good = scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            )
            return 0 if good else 401
        if public and not _loopback(client_host):
            return 403
        return 0


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_separately(metrics: Metrics, access: MetricsAccess, address: str) -> Callable[[], None]:
    """Serve /metrics on ``address`` (host:port) from a thread; returns its stop."""
    host, _, port = address.rpartition(":")
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        status = access.refusal(environ.get("HTTP_AUTHORIZATION"), None, public=False)
        if environ.get("PATH_INFO") != "/metrics":
            status = 404
        if status:
            start_response(f"{status} {HTTPStatus(status).phrase}", [("Content-Length", "0")])
            return [b""]
        return exposition(environ, start_response)

    server = make_server(
        host.strip("[]") or "0.0.0.0",
        int(port),
        app,
        ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="roomchat-metrics", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log line per scrape."""
