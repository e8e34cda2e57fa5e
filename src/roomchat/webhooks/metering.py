"""The dispatcher's figures on /metrics, read from it when scraped (roomchat/metrics.py
keeps the rest): how many endpoints it holds and requests it has in flight, and how
much work it did, which grows with the events endpoints asked for, not with endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from roomchat.webhooks.dispatcher import Dispatcher


class DispatchMetrics(Collector):
    def __init__(self, dispatcher: Dispatcher, instance: str) -> None:
        self._dispatcher = dispatcher
        self._instance = instance

    def collect(self) -> Iterator[Metric]:
        dispatcher, labels = self._dispatcher, [self._instance]
        gauges = (
            (
                "roomchat_webhook_endpoints",
                "Webhook endpoints this instance delivers (holds the lease of)",
                dispatcher.endpoints,
            ),
            (
                "roomchat_webhook_requests_in_flight",
                "Webhook requests this instance has open now",
                dispatcher.requests_in_flight,
            ),
        )
        for name, documentation, level in gauges:
            gauge = GaugeMetricFamily(name, documentation, labels=["instance"])
            gauge.add_metric(labels, float(level))
            yield gauge
        counters = (
            (
                "roomchat_webhook_wakeups",
                "Times an endpoint was given a room to deliver (an event it asked for was "
                "heard, or events were found pending)",
                dispatcher.stats.wakeups,
            ),
            (
                "roomchat_webhook_queries",
                "Database statements the webhook dispatcher ran",
                dispatcher.stats.queries,
            ),
        )
        for name, documentation, count in counters:
            counter = CounterMetricFamily(name, documentation, labels=["instance"])
            counter.add_metric(labels, float(count))
            yield counter
