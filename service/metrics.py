"""Prometheus metrics at /metrics (Litestar's exporter): the request metrics of service/edge.py, plus
the pool and JWKS gauges, read at scrape time."""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from litestar.plugins.prometheus import PrometheusController
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from service.gateway import Gateway
from service.jwks import JwksKeys


class MetricsController(PrometheusController):
    path = "/metrics"


class _ServiceCollector(Collector):
    """Read at scrape time from the live gateways and JWKS sources of this process."""

    def __init__(self) -> None:
        self.gateways: weakref.WeakSet[Gateway] = weakref.WeakSet()
        self.jwks: weakref.WeakSet[JwksKeys] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        size = GaugeMetricFamily("tasks_db_pool_size", "Connections open in the pool")
        idle = GaugeMetricFamily("tasks_db_pool_idle", "Open connections not in use")
        waiting = GaugeMetricFamily("tasks_db_pool_waiting", "Requests waiting for a connection")
        size.add_metric([], sum(g.pool_size() for g in self.gateways))
        idle.add_metric([], sum(g.pool_idle() for g in self.gateways))
        waiting.add_metric([], sum(g.waiting for g in self.gateways))
        fetches = CounterMetricFamily("tasks_jwks_fetches", "JWKS fetch attempts", labels=["outcome"])
        fetches.add_metric(["ok"], sum(j.fetches - j.failures for j in self.jwks))
        fetches.add_metric(["failed"], sum(j.failures for j in self.jwks))
        yield from (size, idle, waiting, fetches)


COLLECTOR = _ServiceCollector()
REGISTRY.register(COLLECTOR)
