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
from service.metrics import DURATION, ERRORS, IN_PROGRESS, REQUESTS

UNMETERED = ("/metrics", "/health", "/schema")

_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
# Task data is per user: no shared cache may keep it.
_API = (b"cache-control", b"no-store")


class Edge:
    def __init__(self, app: ASGIApp, *, access_log: bool, allow: dict[str, str] | None = None) -> None:
        self.app = app
        self.access_log = access_log
        # Route template -> its methods. Litestar 2's automatic OPTIONS answer lists only the methods its
        # route had when it was made, not those of handlers added to the path later (litestar#4169).
        self.allow = {path: methods.encode() for path, methods in (allow or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        rid = logs.request_id(scope)
        extra: list[tuple[bytes, bytes]] = [*_ALWAYS, (b"x-request-id", rid.encode())]
        if scope["path"].startswith("/api/"):
            extra.append(_API)
        status = 500
        body = unread.RequestBody(receive) if unread.is_http1(scope) else None

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *extra]
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
            self._record(scope, status, time.perf_counter() - started)
            logs.unbind_request_id(token)

    def _with_allow(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        allow = self.allow.get(scope.get("path_template", ""))
        if allow is None:
            return headers
        return [(name, allow if name.lower() == b"allow" else value) for name, value in headers]

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("path_template") or "unmatched"
        method = scope.get("method", "")
        if not route.startswith(UNMETERED):
            labels = (method, route, str(status))
            REQUESTS.labels(*labels).inc()
            DURATION.labels(*labels).observe(seconds)
            if status >= 500:
                ERRORS.labels(*labels).inc()
        if self.access_log:
            logs.access.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "user": logs.user_hash(scope.get("user")),
                },
            )
