"""The edge of every request: request id, security headers, the access line, the request metrics, and an
unread request body settled before the answer (service/unread.py says why).

One ASGI wrapper around Litestar's whole handler, so unmatched routes (404, 405) and errors raised by
any middleware (401, 429) are seen with their final status. It replaces a before_send hook, a logging
middleware and Litestar's Prometheus middleware, which together cost about 0.4 ms of CPU per request
(bench/README.md has the measurement). It records the request metrics that service/metrics.py defines.
"""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service import logs, unread
from service.metrics import IN_PROGRESS, Series

UNMETERED = ("/metrics", "/health", "/schema")

_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
# Task data is per user: no shared cache may keep it. The edge's value replaces any other (Litestar's stream
# responses set their own), so a response carries the header once.
_CACHE_CONTROL = b"cache-control"
_API = (_CACHE_CONTROL, b"no-store")


class Edge:
    def __init__(self, app: ASGIApp, *, access_log: bool, allow: dict[str, str] | None = None) -> None:
        self.app = app
        self.access_log = access_log
        # Route template -> its methods. Litestar 2's automatic OPTIONS answer lists only the methods its
        # route had when it was made, not those of handlers added to the path later (litestar#4169).
        self.allow = {path: methods.encode() for path, methods in (allow or {}).items()}
        # (method, route, status) -> its metric series, looked up once: `labels()` takes a lock and builds
        # the key on every call. As many entries as Prometheus keeps series.
        self._series: dict[tuple[str, str, int], Series] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        rid = logs.request_id(scope)
        extra: list[tuple[bytes, bytes]] = [*_ALWAYS, (b"x-request-id", rid.encode())]
        api = scope["path"].startswith("/api/")
        if api:
            extra.append(_API)
        status = 500
        # Only a request with a body can leave one unread (GET, most DELETEs: nothing to watch).
        body = unread.RequestBody(receive) if unread.is_http1(scope) and unread.declared_length(scope) != 0 else None

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if api:
                    headers = [header for header in headers if header[0].lower() != _CACHE_CONTROL]
                headers += extra
                if scope["method"] == "OPTIONS":
                    headers = self._with_allow(scope, headers)
                if body is not None and not await body.settle(scope):
                    headers.append(unread.CLOSE)
                message["headers"] = headers
            await send(message)

        token = logs.bind_request_id(rid)
        started = time.perf_counter()
        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive if body is None else body.receive, edge_send)
        finally:
            IN_PROGRESS.dec()
            self._record(scope, rid, status, time.perf_counter() - started)
            logs.unbind_request_id(token)

    def _with_allow(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        allow = self.allow.get(scope.get("path_template", ""))
        if allow is None:
            return headers
        return [(name, allow if name.lower() == b"allow" else value) for name, value in headers]

    def _record(self, scope: Scope, rid: str, status: int, seconds: float) -> None:
        route = scope.get("path_template") or "unmatched"
        method = str(scope.get("method", ""))
        if not route.startswith(UNMETERED):
            key = (method, route, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series.of(method, route, status)
            series.requests.inc()
            series.duration.observe(seconds)
            if series.errors is not None:
                series.errors.inc()
        if self.access_log:
            logs.access_line(rid, method, route, status, round(seconds * 1000, 2), logs.user_hash(scope.get("user")))
