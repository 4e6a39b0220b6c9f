"""The per-user rate limit: a fixed one-minute window per user, counted in one atomic step per request.

Litestar's RateLimitMiddleware reads a user's count and writes it back in two steps, so a burst spread over
several workers or instances lets requests through beyond the limit. Here each request is one increment
that answers the new count: in Redis (one Lua script, so every worker and instance shares the count) or, when
REDIS_URL is unset, in this process (no await between reading and writing, so exact within the process).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, NamedTuple, Protocol

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from service.errors import RateLimited, Unavailable

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

WINDOW_SECONDS = 60
REDIS_TIMEOUT_SECONDS = 2.0  # a hung Redis must not hang every request
_NAMESPACE = "tasks-rate-limit:"

# Increment, start the window on the first hit, answer the count and the window's time left; all atomically.
# The expiry is set whenever the key has none, so a key can never outlive its window.
_HIT = """
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {hits, left}
"""


class Hit(NamedTuple):
    hits: int  # requests in this window, this one included
    resets_in: float  # seconds until the window ends


class WindowCounter(Protocol):
    async def hit(self, key: str) -> Hit: ...

    async def close(self) -> None: ...


class MemoryCounter:
    """Counts in this process; expired windows are swept once per window, so idle users do not pile up."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self._window = window
        self._counts: dict[str, tuple[int, float]] = {}
        self._sweep_at = 0.0

    async def hit(self, key: str) -> Hit:
        now = time.monotonic()
        if now >= self._sweep_at:
            self._counts = {k: entry for k, entry in self._counts.items() if entry[1] > now}
            self._sweep_at = now + self._window
        count, ends = self._counts.get(key, (0, now + self._window))
        if ends <= now:
            count, ends = 0, now + self._window
        self._counts[key] = (count + 1, ends)
        return Hit(count + 1, ends - now)

    async def close(self) -> None:
        self._counts.clear()


class RedisCounter:
    def __init__(self, url: str, window: float = WINDOW_SECONDS) -> None:
        self._client: Redis = Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._script = self._client.register_script(_HIT)
        self._window_ms = int(window * 1000)

    async def hit(self, key: str) -> Hit:
        try:
            count, left_ms = await self._script(keys=[_NAMESPACE + key], args=[self._window_ms])
        except (redis_errors.ConnectionError, redis_errors.TimeoutError):
            raise Unavailable("The rate-limit store is unreachable; retry shortly.") from None
        return Hit(int(count), int(left_ms) / 1000)

    async def close(self) -> None:
        await self._client.aclose()


def counter_for(redis_url: str | None) -> WindowCounter:
    return MemoryCounter() if redis_url is None else RedisCounter(redis_url)


class RateLimit(ASGIMiddleware):
    """Counts every request of the authenticated user (so it runs after authentication); over the limit is
    429 RATE_LIMITED with Retry-After. Every answer carries the RateLimit-* headers."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, counter: WindowCounter, limit: int) -> None:
        self.counter = counter
        self.limit = limit

    def __deepcopy__(self, memo: dict[int, object]) -> RateLimit:
        # Litestar deep-copies a router when it registers it; the counter (a Redis client, or this process's
        # counts) is one shared resource, never a value to copy.
        return self

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        hit = await self.counter.hit(f"user:{scope['user']}")
        seconds_left = max(1, math.ceil(hit.resets_in))
        headers = {
            "RateLimit-Policy": f"{self.limit}; w={WINDOW_SECONDS}",
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - hit.hits)),
            "RateLimit-Reset": str(seconds_left),
        }
        if hit.hits > self.limit:
            raise RateLimited(seconds_left, headers)
        encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *encoded]
            await send(message)

        await next_app(scope, receive, send_with_limits)
