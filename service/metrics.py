"""Every Prometheus metric of the service, defined here; edge.py and the JWKS source only record them.
Served at /metrics by Litestar's exporter.

With several workers (WEB_CONCURRENCY>1) the serve command points PROMETHEUS_MULTIPROC_DIR at an empty
directory before granian forks them. Each worker then keeps its values in files there, and a scrape,
whichever worker answers it, reads and sums them all (prometheus_client's multiprocess mode, which
Litestar's exporter switches to when the variable is set). Gauges say how workers combine: summed over
the live workers. Counters of a worker that has stopped still count, as a total should.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NamedTuple

from litestar import Request
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from service.gateway import Gateway

_LABELS = ("method", "path", "status_code")
REQUESTS = Counter("tasks_requests", "HTTP requests, by route template and status", _LABELS)
ERRORS = Counter("tasks_requests_error", "HTTP requests answered with a 5xx", _LABELS)
DURATION = Histogram(
    "tasks_request_duration_seconds",
    "Time to answer, by route template and status",
    _LABELS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
IN_PROGRESS = Gauge("tasks_requests_in_progress", "HTTP requests being answered", multiprocess_mode="livesum")

POOL_SIZE = Gauge("tasks_db_pool_size", "Connections open in the pool", multiprocess_mode="livesum")
POOL_IDLE = Gauge("tasks_db_pool_idle", "Open connections not in use", multiprocess_mode="livesum")
POOL_WAITING = Gauge("tasks_db_pool_waiting", "Requests waiting for a connection", multiprocess_mode="livesum")

JWKS_FETCHES = Counter("tasks_jwks_fetches", "JWKS fetch attempts", ["outcome"])
for _outcome in ("ok", "failed"):
    JWKS_FETCHES.labels(_outcome)  # both series from the start, at 0

STREAMS_OPEN = Gauge("tasks_sse_streams_open", "Live-update streams open", multiprocess_mode="livesum")
EVENTS_SENT = Counter("tasks_sse_events", "changed events sent on live-update streams, by reason", ["reason"])
for _reason in ("first", "change", "resync"):
    EVENTS_SENT.labels(_reason)
LISTENER_RECONNECTS = Counter("tasks_listener_reconnects", "LISTEN connections re-established after a loss")
EVENT_DELAY = Histogram(
    "tasks_sse_event_delay_seconds",
    "From a change's notification (sent just before its commit) to its changed event written to a stream",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class Series(NamedTuple):
    """The request metrics' children for one (method, route template, status)."""

    requests: Counter
    duration: Histogram
    errors: Counter | None  # 5xx only

    @classmethod
    def of(cls, method: str, route: str, status: int) -> Series:
        labels = (method, route, str(status))
        errors = ERRORS.labels(*labels) if status >= 500 else None
        return cls(REQUESTS.labels(*labels), DURATION.labels(*labels), errors)


# How often a worker publishes its pool gauges for scrapes that another worker answers.
POOL_PUBLISH_SECONDS = 1.0
_gateways: weakref.WeakSet[Gateway] = weakref.WeakSet()


def publish_pools() -> None:
    """This process's pool gauges, read from its open gateways."""
    gateways = list(_gateways)
    POOL_SIZE.set(sum(g.pool_size() for g in gateways))
    POOL_IDLE.set(sum(g.pool_idle() for g in gateways))
    POOL_WAITING.set(sum(g.waiting for g in gateways))


@contextlib.asynccontextmanager
async def pool_gauges(gateway: Gateway) -> AsyncIterator[None]:
    """Keep the gateway's pool in the gauges while it is open: read at every scrape this process answers,
    and with several workers also published every POOL_PUBLISH_SECONDS for scrapes the others answer."""
    _gateways.add(gateway)
    publisher = asyncio.create_task(_publish_every(POOL_PUBLISH_SECONDS)) if _multiprocess() else None
    try:
        yield
    finally:
        if publisher is not None:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
        _gateways.discard(gateway)
        publish_pools()  # a closed pool counts for nothing from now on


async def _publish_every(seconds: float) -> None:
    while True:
        publish_pools()
        await asyncio.sleep(seconds)


def _multiprocess() -> bool:
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


def _before_scrape(_: Request[Any, Any, Any]) -> None:
    publish_pools()


class MetricsController(PrometheusController):
    path = "/metrics"
    before_request = staticmethod(_before_scrape)  # the pool gauges of this process, current at every scrape
