"""Prometheus metrics at /metrics: Litestar's request counters and latency histograms per route template,
plus the pool and JWKS gauges this service adds."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from service.errors import respond
from service.gateway import Gateway
from service.jwks import JwksKeys

UNMETERED = ["/metrics", "/health", "/schema"]


class _AnswerErrors:
    """Answers an error raised below it with the service's handlers, so the metrics middleware sees its status.

    Litestar's Prometheus middleware learns the status from the responses passing through its `send`.
    Errors raised by the /api router's own middleware (401 from authentication, 429 from the rate
    limit) would otherwise be answered by the exception handler outside it, and be counted as 200.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started or scope["type"] != ScopeType.HTTP:
                raise
            request: Request[Any, Any, Any] = Request(scope, receive)
            await respond(request, error).to_asgi_response(app=None, request=request)(scope, receive, send)


class StatusAwarePrometheusMiddleware(PrometheusMiddleware):
    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app=_AnswerErrors(app), config=config)


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        middleware_class=StatusAwarePrometheusMiddleware,
        app_name="tasks",
        prefix="tasks",
        group_path=True,  # label by route template, never by raw path: ids would explode the series
        exclude=UNMETERED,
        buckets=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
    )


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
