"""The HTTP floor of `make bench`: granian serving one constant JSON body from a trivial ASGI app.

No routing, no auth, no database, no JSON encoding: whatever the real service does on top of this costs
throughput, so `service req/s / floor req/s` shows how much of the HTTP server's ceiling the service keeps.
The body has the size of a real get-one response (FLOOR_BODY_BYTES, measured by bench/run.py), so both
move the same bytes per request.

    FLOOR_BODY_BYTES=520 granian --interface asgi --working-dir bench floor:app
"""

from __future__ import annotations

import os
from typing import Any

_PREFIX = b'{"status":"success","data":{"padding":"'
_SUFFIX = b'"}}'


def constant_body(size: int) -> bytes:
    """Valid JSON of exactly `size` bytes (or the shortest such document when size is smaller)."""
    return _PREFIX + b"x" * max(0, size - len(_PREFIX) - len(_SUFFIX)) + _SUFFIX


BODY = constant_body(int(os.environ.get("FLOOR_BODY_BYTES", "500")))
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
}
END = {"type": "http.response.body", "body": BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send(START)
    await send(END)
