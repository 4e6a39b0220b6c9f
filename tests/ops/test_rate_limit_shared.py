"""With REDIS_URL, every worker counts against one limit: two app instances (two workers) share a real Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.helpers import auth, make_settings

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
