"""Headers every response carries: the request id, and the security headers of a JSON API."""

from __future__ import annotations

from litestar.types import Message, Scope

from service.logs import request_id

_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
# Task data is per user: no shared cache may keep it.
_API = [(b"cache-control", b"no-store")]


async def add_response_headers(message: Message, scope: Scope) -> None:
    """before_send hook: runs for every response, the framework's own errors included."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", ()))
    headers.append((b"x-request-id", request_id(scope).encode()))
    headers.extend(_ALWAYS)
    if scope.get("path", "").startswith("/api/"):
        headers.extend(_API)
    message["headers"] = headers
