"""With REDIS_URL, every worker counts against one limit: two app instances (two workers) share a real Redis."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.ratelimit import RedisCounter
from tests.helpers import auth, make_settings
from tests.ops.conftest import Server

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server not found; CI installs the Debian package")
LIMIT = 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    command = [str(REDIS), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_two_workers_share_one_limit(migrated: str, redis_url: str, user: str) -> None:
    settings = make_settings(migrated, rate_limit_per_minute=LIMIT, redis_url=redis_url)
    async with AsyncTestClient(create_app(settings)) as first, AsyncTestClient(create_app(settings)) as second:
        statuses = []
        for index in range(LIMIT + 2):
            client = first if index % 2 == 0 else second
            statuses.append((await client.get(f"/api/{user}/tasks", headers=auth(user))).status_code)
    # In-process counters would allow LIMIT requests per worker (all 200 here); one shared count stops at LIMIT.
    assert statuses == [200] * LIMIT + [429, 429]


async def test_a_concurrent_burst_over_two_instances_never_overshoots(
    migrated_scratch_url: str, redis_url: str, start_server: Callable[..., Server], user: str
) -> None:
    """Real servers, so the requests truly overlap (the test client runs one request at a time)."""
    limit = 10
    variables = {"RATE_LIMIT_PER_MINUTE": str(limit), "REDIS_URL": redis_url}
    servers = [start_server(migrated_scratch_url, **variables) for _ in range(2)]
    async with httpx.AsyncClient(timeout=30.0) as client:
        burst = [
            client.get(f"{servers[i % 2].base_url}/api/{user}/tasks", headers=auth(user)) for i in range(3 * limit)
        ]
        responses = await asyncio.gather(*burst)
    statuses = [response.status_code for response in responses]
    assert (statuses.count(200), statuses.count(429)) == (limit, 2 * limit), statuses
    for response in responses:
        if response.status_code == 429:
            assert response.json()["code"] == "RATE_LIMITED"
            assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_the_redis_window_expires_with_its_count(redis_url: str) -> None:
    counter = RedisCounter(redis_url, window=0.3)
    key = f"window-{time.monotonic_ns()}"
    try:
        first, second = await counter.hit(key), await counter.hit(key)
        assert (first.hits, second.hits) == (1, 2)
        assert 0 < second.resets_in <= first.resets_in <= 0.3
        await asyncio.sleep(0.5)
        assert (await counter.hit(key)).hits == 1  # the key expired with its window: a new window
    finally:
        await counter.close()
