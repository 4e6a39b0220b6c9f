"""The per-user rate limit: the request after the limit is 429 with Retry-After, per user, and never on health
or metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.errors import Unavailable
from service.ratelimit import Hit, MemoryCounter, RedisCounter
from tests.helpers import auth, make_settings
from tests.ops.conftest import free_port, metric_samples

LIMIT = 3


@pytest.fixture
async def limited_client(migrated: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A fresh app (and so a fresh in-memory counter) per test."""
    app = create_app(make_settings(migrated, rate_limit_per_minute=LIMIT))
    async with AsyncTestClient(app) as client:
        yield client


def requests_counted(metrics: str, status: int | None = None) -> float:
    """tasks_requests_total for GET /api/{user_id}/tasks with this status (any status when None; 0 when absent)."""
    return sum(
        value
        for labels, value in metric_samples(metrics, "tasks_requests_total")
        if labels.get("method") == "GET"
        and labels.get("path") == "/api/{user_id}/tasks"
        and (status is None or labels.get("status_code") == str(status))
    )


async def test_the_request_after_the_limit_is_429(limited_client: AsyncTestClient[Litestar], user: str) -> None:
    for used in range(1, LIMIT + 1):
        response = await limited_client.get(f"/api/{user}/tasks", headers=auth(user))
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-limit"] == str(LIMIT)
        assert response.headers["ratelimit-remaining"] == str(LIMIT - used)
        assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
    limited = await limited_client.get(f"/api/{user}/tasks", headers=auth(user))
    assert limited.status_code == 429, limited.text
    assert limited.headers["ratelimit-remaining"] == "0"
    body = limited.json()
    assert body["status"] == "error"
    assert body["code"] == "RATE_LIMITED"
    assert body["message"]
    assert "details" in body
    retry_after = limited.headers.get("retry-after", "")
    assert retry_after.isdigit(), limited.headers
    assert 1 <= int(retry_after) <= 60
    assert limited.headers.get("x-request-id")


async def test_writes_count_too(limited_client: AsyncTestClient[Litestar], user: str) -> None:
    for i in range(LIMIT):
        response = await limited_client.post(f"/api/{user}/tasks", json={"title": f"t{i}"}, headers=auth(user))
        assert response.status_code == 201, response.text
    limited = await limited_client.post(f"/api/{user}/tasks", json={"title": "one too many"}, headers=auth(user))
    assert limited.status_code == 429, limited.text
    listed_after_window = await limited_client.get(f"/api/{user}/tasks", headers=auth(user))
    assert listed_after_window.status_code == 429  # still the same window: nothing was created by the 429


async def test_another_user_is_not_affected(
    limited_client: AsyncTestClient[Litestar], user: str, other_user: str
) -> None:
    for _ in range(LIMIT + 1):
        await limited_client.get(f"/api/{user}/tasks", headers=auth(user))
    assert (await limited_client.get(f"/api/{user}/tasks", headers=auth(user))).status_code == 429
    for _ in range(LIMIT):
        response = await limited_client.get(f"/api/{other_user}/tasks", headers=auth(other_user))
        assert response.status_code == 200, response.text


async def test_health_and_metrics_are_never_limited(limited_client: AsyncTestClient[Litestar], user: str) -> None:
    for _ in range(LIMIT + 1):
        await limited_client.get(f"/api/{user}/tasks", headers=auth(user))
    for path in ("/health", "/health/ready", "/metrics"):
        statuses = [(await limited_client.get(path)).status_code for _ in range(10)]
        assert statuses == [200] * 10, (path, statuses)


async def test_rate_limited_requests_are_counted_as_429_in_metrics(
    limited_client: AsyncTestClient[Litestar], user: str
) -> None:
    before = (await limited_client.get("/metrics")).text
    for _ in range(LIMIT + 2):
        await limited_client.get(f"/api/{user}/tasks", headers=auth(user))
    after = (await limited_client.get("/metrics")).text
    assert requests_counted(after) - requests_counted(before) == LIMIT + 2  # all counted, under some status
    lines = [line for line in after.splitlines() if line.startswith("tasks_requests_total{")]
    assert requests_counted(after, 429) - requests_counted(before, 429) == 2, lines
    assert requests_counted(after, 200) - requests_counted(before, 200) == LIMIT, lines


async def test_the_window_starts_again_once_it_is_over() -> None:
    counter = MemoryCounter(window=0.2)
    assert [(await counter.hit("a")).hits for _ in range(3)] == [1, 2, 3]
    assert (await counter.hit("b")).hits == 1  # per key
    await asyncio.sleep(0.3)
    fresh = await counter.hit("a")
    assert fresh.hits == 1 and fresh.resets_in == pytest.approx(0.2)  # a whole new window
    assert isinstance(fresh, Hit)


async def test_an_unreachable_redis_is_503_not_500() -> None:
    counter = RedisCounter(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        with pytest.raises(Unavailable):
            await counter.hit("user:someone")
    finally:
        await counter.close()
