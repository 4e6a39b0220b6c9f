"""An answer sent before the request body is read must not break the client's kept-alive connection.

The HTTP/1.1 server (hyper, under granian) reuses a connection only when the request body was read to its
end; otherwise it reads what is already buffered, then closes the connection right after the response,
without saying so. A pooling client that sends its next request on that connection gets a reset. Answers
that come before the body is read: 413 (the body limit stops reading), 401/403 (authentication), 404/405
(routing). Before such an answer the rest of the body is read and discarded, bounded in bytes and time; a
body too large or too slow for that makes the answer say `Connection: close`, which hyper honours by closing
after it, so the client knows to open a new connection.
"""

from __future__ import annotations

import asyncio

from litestar.types import Receive, ReceiveMessage, Scope

DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_SECONDS = 5.0
CLOSE = (b"connection", b"close")


class RequestBody:
    """The request's `receive`, remembering whether the body has been read to its end."""

    __slots__ = ("_receive", "read")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.read = False

    async def receive(self) -> ReceiveMessage:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.read = True  # the last chunk, or the client is gone: nothing more will come
        return message

    async def settle(self, scope: Scope) -> bool:
        """Drain what is left of the body; False when the answer must say `Connection: close` instead."""
        if self.read:
            return True
        declared = declared_length(scope)
        if declared == 0:
            return True
        if declared is not None and declared > DRAIN_BYTES:
            return False  # not worth waiting for; the client is told to reconnect
        drained = 0
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while not self.read:
                    message = await self.receive()
                    drained += len(message.get("body", b"")) if message["type"] == "http.request" else 0
                    if drained > DRAIN_BYTES:
                        return False
        except TimeoutError:
            return False
        return True


def declared_length(scope: Scope) -> int | None:
    """The body size the request announced: 0 without a body, None when chunked (size unknown)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
        if name == b"transfer-encoding":
            return None
    return 0


def is_http1(scope: Scope) -> bool:
    """HTTP/2 ends a stream with an unread body on its own and keeps the connection; only HTTP/1 needs this."""
    return str(scope.get("http_version", "1.1")).startswith("1")
