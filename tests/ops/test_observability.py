"""What operators see: Prometheus metrics by route template, one JSON access line per request that names users
only by a hash, and the security headers of a JSON API."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service import logs
from service.app import create_app
from tests.helpers import auth, create_task, make_settings, make_token
from tests.ops.conftest import Server, metric_samples

TASK_ROUTE = "/api/{user_id}/tasks/{task_id}"
LIST_ROUTE = "/api/{user_id}/tasks"


@pytest.fixture(scope="module")
async def own_client(migrated: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(migrated))
    async with AsyncTestClient(app) as client:
        yield client


# -- metrics ------------------------------------------------------------------------------------------


async def test_metrics_are_labelled_by_route_template(own_client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(own_client, user)
    assert (await own_client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user))).status_code == 200
    assert (await own_client.get(f"/api/{user}/tasks", headers=auth(user))).status_code == 200
    response = await own_client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text

    counted = {(s["method"], s["path"], s["status_code"]) for s, _ in metric_samples(text, "tasks_requests_total")}
    assert {("POST", LIST_ROUTE, "201"), ("GET", TASK_ROUTE, "200"), ("GET", LIST_ROUTE, "200")} <= counted, counted
    buckets = metric_samples(text, "tasks_request_duration_seconds_bucket")
    assert any(labels["path"] == TASK_ROUTE and labels["le"] == "+Inf" and value >= 1 for labels, value in buckets)
    assert user not in text and task["id"] not in text  # never a raw path: ids would explode the series
    assert not any("/metrics" in labels.get("path", "") for labels, _ in metric_samples(text, "tasks_requests_total"))


async def test_metrics_report_the_pool(own_client: AsyncTestClient[Litestar]) -> None:
    text = (await own_client.get("/metrics")).text
    for name in ("tasks_db_pool_size", "tasks_db_pool_idle", "tasks_db_pool_waiting"):
        samples = metric_samples(text, name)
        assert len(samples) == 1, (name, samples)
        assert samples[0][1] >= 0
    assert metric_samples(text, "tasks_db_pool_size")[0][1] >= 1  # this app's pool keeps one connection open
    size = metric_samples(text, "tasks_db_pool_size")[0][1]
    assert metric_samples(text, "tasks_db_pool_idle")[0][1] <= size


async def test_rejected_requests_are_counted_under_their_status(
    own_client: AsyncTestClient[Litestar], user: str
) -> None:
    def unauthorized(text: str) -> float:
        return sum(
            v
            for s, v in metric_samples(text, "tasks_requests_total")
            if s["path"] == LIST_ROUTE and s["method"] == "GET" and s["status_code"] == "401"
        )

    before = unauthorized((await own_client.get("/metrics")).text)
    assert (await own_client.get(f"/api/{user}/tasks")).status_code == 401
    after_text = (await own_client.get("/metrics")).text
    lines = [line for line in after_text.splitlines() if line.startswith("tasks_requests_total{")]
    assert unauthorized(after_text) - before == 1, lines


# -- access log -----------------------------------------------------------------------------------------


def access_lines(server: Server) -> list[dict[str, Any]]:
    entries = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "service.access":
                entries.append(entry)
    return entries


def wait_for_lines(server: Server, request_ids: set[str], timeout: float = 10.0) -> list[dict[str, Any]]:
    """The access lines once every request id has one (they are written by a thread, a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = access_lines(server)
        if request_ids <= {e.get("request_id") for e in entries} or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def test_one_json_access_line_per_request(
    migrated_scratch_url: str, start_server: Callable[..., Server], user: str
) -> None:
    server = start_server(migrated_scratch_url, LOG_LEVEL="INFO", LOG_FORMAT="json")
    token = make_token(user)
    bearer = {"Authorization": f"Bearer {token}"}
    secret_body = "a-body-marker-that-must-stay-out-of-logs"
    sent: list[tuple[httpx.Response, str, str, int]] = []
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        created = client.post(f"/api/{user}/tasks", json={"title": secret_body}, headers=bearer)
        sent.append((created, "POST", LIST_ROUTE, 201))
        task_id = created.json()["data"]["id"]
        got = client.get(f"/api/{user}/tasks/{task_id}", headers={**bearer, "X-Request-ID": "trace-me.42"})
        sent.append((got, "GET", TASK_ROUTE, 200))
        sent.append((client.get(f"/api/{user}/tasks", headers=bearer), "GET", LIST_ROUTE, 200))
        sent.append((client.get(f"/api/{user}/tasks"), "GET", LIST_ROUTE, 401))
        sent.append((client.get("/no/such/route"), "GET", "unmatched", 404))
    assert got.headers["x-request-id"] == "trace-me.42"
    for response, _, _, status in sent:
        assert response.status_code == status, response.text
        assert not re.search(r"\d", response.headers.get("server", "")), response.headers["server"]

    request_ids = {response.headers["x-request-id"] for response, *_ in sent}
    assert len(request_ids) == len(sent)
    entries = wait_for_lines(server, request_ids)
    user_hash = hashlib.sha256(user.encode()).hexdigest()[:12]
    for response, method, route, status in sent:
        mine = [e for e in entries if e.get("request_id") == response.headers["x-request-id"]]
        assert len(mine) == 1, (response.request.url, response.headers, entries)
        entry = mine[0]
        assert (entry["method"], entry["route"], entry["status"]) == (method, route, status), entry
        assert isinstance(entry["duration_ms"], int | float) and entry["duration_ms"] >= 0, entry
        assert entry["level"] == "info" and entry["time"].endswith("Z"), entry
        if status in (200, 201):
            assert re.fullmatch(r"[0-9a-f]{12}", entry["user"]) and entry["user"] == user_hash, entry
        else:
            assert entry.get("user") is None, entry
    log = server.log()
    assert token not in log and token.split(".")[2] not in log
    assert secret_body not in log
    assert user not in log and task_id not in log


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_records() -> Iterator[_Records]:
    """Records of the `service.access` logger, caught on the logger itself (create_app replaces root's handlers)."""
    handler = _Records()
    logger = logging.getLogger("service.access")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logs.configure("WARNING", "json")  # what the other tests' apps configured


@pytest.mark.parametrize("enabled", [True, False], ids=["access_log", "no_access_log"])
async def test_access_log_can_be_turned_off(migrated: str, access_records: _Records, user: str, enabled: bool) -> None:
    app = create_app(make_settings(migrated, log_level="INFO", log_format="json", access_log=enabled))
    async with AsyncTestClient(app) as client:
        assert (await client.get(f"/api/{user}/tasks", headers=auth(user))).status_code == 200
        assert (await client.get("/health")).status_code == 200
    assert len(access_records.records) == (2 if enabled else 0), [r.__dict__ for r in access_records.records]


# -- security headers -------------------------------------------------------------------------------------


async def test_security_headers_on_every_response(own_client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(own_client, user)
    api = {
        "task": await own_client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user)),
        "list": await own_client.get(f"/api/{user}/tasks", headers=auth(user)),
        "401": await own_client.get(f"/api/{user}/tasks"),
        "403": await own_client.get("/api/someone-else/tasks", headers=auth(user)),
        "404 task": await own_client.get(f"/api/{user}/tasks/not-a-uuid", headers=auth(user)),
        "405": await own_client.put(f"/api/{user}/tasks", headers=auth(user)),
    }
    other = {
        "health": await own_client.get("/health"),
        "metrics": await own_client.get("/metrics"),
        "openapi": await own_client.get("/schema/openapi.json"),
        "404 route": await own_client.get("/no/such/route"),
    }
    assert [r.status_code for r in api.values()] == [200, 200, 401, 403, 404, 405]
    assert [r.status_code for r in other.values()] == [200, 200, 200, 404]
    for name, response in {**api, **other}.items():
        assert response.headers.get("x-content-type-options") == "nosniff", name
        assert response.headers.get("x-request-id"), name
    for name, response in api.items():
        assert response.headers.get_list("cache-control") == ["no-store"], name  # once: not Litestar's and ours
