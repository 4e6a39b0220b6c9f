"""With WEB_CONCURRENCY>1 a scrape of /metrics sums every worker, whichever worker answers it."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.__main__ import worker_metrics
from tests.helpers import auth
from tests.ops.conftest import Server, metric_samples

LIST_ROUTE = "/api/{user_id}/tasks"
SETTLE_SECONDS = 15.0  # bound for a worker that is still starting, or records just after it answers


def scrape(server: Server) -> str:
    # A new connection each time, so any worker may answer.
    response = httpx.get(f"{server.base_url}/metrics", timeout=10.0, headers={"Connection": "close"})
    assert response.status_code == 200, response.text
    return response.text


def listed(text: str) -> float:
    return sum(
        value
        for labels, value in metric_samples(text, "tasks_requests_total")
        if labels["path"] == LIST_ROUTE and labels["method"] == "GET" and labels["status_code"] == "200"
    )


def pool_size(text: str) -> float:
    return sum(value for _, value in metric_samples(text, "tasks_db_pool_size"))


def settles(server: Server, read: Callable[[str], float], expected: float) -> list[float]:
    """Scrapes until `read` gives `expected` (bounded); every value seen, for the failure message."""
    seen: list[float] = []
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        seen.append(read(scrape(server)))
        if seen[-1] == expected:
            break
        time.sleep(0.1)
    return seen


def test_a_scrape_sums_every_worker(
    migrated_scratch_url: str, start_server: Callable[..., Server], user: str, tmp_path: Path
) -> None:
    server = start_server(migrated_scratch_url, WEB_CONCURRENCY="2", DB_POOL_MIN_SIZE="1", TMPDIR=str(tmp_path))
    # One connection per worker's pool: one worker alone would say 1.
    seen = settles(server, pool_size, 2)
    assert seen[-1] == 2, seen

    requests = 40

    def list_tasks(_: int) -> int:
        # A new connection per request, several at once: the requests spread over both workers.
        return httpx.get(f"{server.base_url}/api/{user}/tasks", headers=auth(user), timeout=30.0).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(list_tasks, range(requests)))
    assert statuses == [200] * requests

    seen = settles(server, listed, requests)
    assert seen[-1] == requests, seen
    again = [listed(scrape(server)) for _ in range(10)]
    assert again == [requests] * 10
    (directory,) = tmp_path.glob("tasks-metrics-*")
    pids = {path.stem.rsplit("_", 1)[-1] for path in directory.glob("counter_*.db")}
    assert len(pids) == 2, pids  # both workers write to the shared directory

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0, server.log()
    assert not directory.exists()  # the serve command removes the directory it made


def test_the_directory_is_emptied_at_start_and_kept_when_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"an earlier run")
    (given / "notes.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    with worker_metrics(workers=1):
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(given)
        assert sorted(p.name for p in given.iterdir()) == ["notes.txt"]
    assert given.is_dir()


def test_one_worker_keeps_the_single_process_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with worker_metrics(workers=1):
        assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    with worker_metrics(workers=2):
        made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert made.is_dir() and made.parent == tmp_path
    assert not made.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
