"""Concurrency: keyset pages under churn, concurrent idempotent creates, If-Match races and toggles.

These tests serve the app in the test's own event loop through httpx.ASGITransport: Litestar's
AsyncTestClient runs each request to completion in a portal thread, so asyncio.gather over it would
send the requests one after another and race nothing.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import httpx
import pytest

from service.app import create_app
from service.config import Settings
from tests.helpers import auth

Client = httpx.AsyncClient


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[Client]:
    """A second app, with its own pool, running in this event loop so that concurrent requests overlap."""
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:  # the lifespan is entered and left in one task, as a server would
        async with app.lifespan():
            started.set()
            await stop.wait()

    server = asyncio.create_task(serve())
    await asyncio.wait([server, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        server.result()  # start-up failed: raise its error
    try:
        # Litestar's ASGI types are narrower TypedDicts than httpx's generic scope mapping.
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        stop.set()
        await server


async def create_task(client: Client, user: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(f"/api/{user}/tasks", json={"title": "A task", **fields}, headers=auth(user))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


async def churn(
    client: Client, user: str, victims: list[str], stop: asyncio.Event, counts: dict[str, int], progress: asyncio.Event
) -> None:
    """Keep creating tasks and deleting them (and some of `victims`) until told to stop."""
    rng = random.Random(7)
    created: list[str] = []
    while not stop.is_set():
        title = "".join(rng.choice("abcdefghij") for _ in range(4))
        response = await client.post(
            f"/api/{user}/tasks",
            json={"title": title, "priority": rng.choice(["low", "medium", "high"]), "due_date": None},
            headers=auth(user),
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["data"]["id"])
        counts["created"] += 1
        progress.set()
        pool = created if rng.random() < 0.7 or not victims else victims
        if pool and rng.random() < 0.6:
            doomed = pool.pop(rng.randrange(len(pool)))
            response = await client.delete(f"/api/{user}/tasks/{doomed}", headers=auth(user))
            assert response.status_code == 204, response.text
            counts["deleted"] += 1
        await asyncio.sleep(0)


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "title", "-due_date", "priority"])
async def test_walk_while_tasks_come_and_go_sees_each_survivor_once(client: Client, user: str, sort: str) -> None:
    originals = []
    for index in range(30):
        due = f"2026-03-{1 + index % 5:02d}T00:00:00Z" if index % 3 else None
        task = await create_task(
            client, user, title=f"orig {index % 7}", priority=["low", "medium", "high"][index % 3], due_date=due
        )
        originals.append(task["id"])
    victims = originals[::6]  # five originals the churn may delete during the walk
    untouched = set(originals) - set(victims)

    stop = asyncio.Event()
    counts = {"created": 0, "deleted": 0}
    created = asyncio.Event()
    background = asyncio.create_task(churn(client, user, list(victims), stop, counts, created))
    seen: list[str] = []
    cursor: str | None = None
    try:
        for _ in range(200):
            params = [("sort", sort), ("limit", "3")] + ([("cursor", cursor)] if cursor else [])
            response = await client.get(f"/api/{user}/tasks?{urlencode(params)}", headers=auth(user))
            assert response.status_code == 200, response.text
            body = response.json()
            seen.extend(task["id"] for task in body["data"])
            cursor = body["meta"]["next_cursor"]
            if cursor is None:
                break
            # Wait for the churn to create another task: every page overlaps it, however loaded the machine.
            created.clear()
            await asyncio.wait_for(created.wait(), timeout=30)
        else:
            raise AssertionError("the walk did not end")
    finally:
        stop.set()
        await background

    assert counts["created"] > 5, "the churn did not overlap the walk"
    assert len(seen) == len(set(seen)), "a task appeared twice"
    assert untouched <= set(seen), f"missed: {untouched - set(seen)}"
    # The survivors keep the order of a quiet listing of them.
    quiet = await client.get(f"/api/{user}/tasks?{urlencode([('sort', sort), ('limit', '1000')])}", headers=auth(user))
    order = [task["id"] for task in quiet.json()["data"] if task["id"] in untouched]
    assert [task_id for task_id in seen if task_id in untouched] == order


async def test_concurrent_posts_with_one_idempotency_key_make_one_task(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    headers = {**auth(user), "Idempotency-Key": "same-key-20"}
    body: dict[str, Any] = {"title": "Only once", "tags": ["race"], "priority": "high"}

    responses = await asyncio.gather(
        *(client.post(f"/api/{user}/tasks", json=body, headers=headers) for _ in range(20))
    )

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    ids = {r.json()["data"]["id"] for r in responses}
    assert len(ids) == 1
    assert await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user) == 1
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE user_id = $1", user) == 1
    stored = await db.fetchval("SELECT id FROM tasks WHERE user_id = $1", user)
    assert str(stored) == ids.pop()


@pytest.mark.parametrize("round_", range(5))
async def test_two_patches_with_one_if_match_exactly_one_wins(client: Client, user: str, round_: int) -> None:
    task = await create_task(client, user, title="start")
    url = f"/api/{user}/tasks/{task['id']}"
    headers = {**auth(user), "If-Match": f'"{task["version"]}"'}

    first, second = await asyncio.gather(
        client.patch(url, json={"title": f"first {round_}"}, headers=headers),
        client.patch(url, json={"title": f"second {round_}"}, headers=headers),
    )

    assert sorted([first.status_code, second.status_code]) == [200, 412], (first.text, second.text)
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert loser.json()["code"] == "PRECONDITION_FAILED"
    now = await client.get(url, headers=auth(user))
    assert now.json()["data"]["version"] == task["version"] + 1
    assert now.json()["data"]["title"] == winner.json()["data"]["title"]
    assert now.headers["ETag"] == f'"{task["version"] + 1}"'


async def test_concurrent_toggles_lose_no_update(client: Client, db: asyncpg.Connection, user: str) -> None:
    task = await create_task(client, user, title="toggle me")
    url = f"/api/{user}/tasks/{task['id']}/complete"
    toggles = 15

    responses = await asyncio.gather(*(client.patch(url, headers=auth(user)) for _ in range(toggles)))

    assert [r.status_code for r in responses] == [200] * toggles, [r.text for r in responses]
    row = await db.fetchrow("SELECT version, status FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task["id"]))
    assert row is not None
    answered = sorted(r.json()["data"]["version"] for r in responses)
    assert row["version"] == task["version"] + toggles, f"versions answered: {answered}"
    assert row["status"] == "completed"  # pending toggled an odd number of times
    # Each toggle changed the task once: every answer carries its own new version.
    assert answered == list(range(task["version"] + 1, task["version"] + toggles + 1))


@pytest.mark.parametrize("path", ["", "put"])
async def test_concurrent_writes_each_answer_with_their_own_change(
    client: Client, db: asyncpg.Connection, user: str, path: str
) -> None:
    """A write that raced another is applied on the latest task, never answered "unchanged" from a stale copy."""
    task = await create_task(client, user, title="t0")
    url = f"/api/{user}/tasks/{task['id']}"
    titles = [f"t{i % 2}" for i in range(12)]  # flip-flopping values: some equal the snapshot, none the latest
    if path == "put":
        writes = [client.put(url, json={"title": t}, headers=auth(user)) for t in titles]
    else:
        writes = [client.patch(url, json={"title": t}, headers=auth(user)) for t in titles]

    responses = await asyncio.gather(*writes)

    assert [r.status_code for r in responses] == [200] * len(titles)
    for title, response in zip(titles, responses, strict=True):
        assert response.json()["data"]["title"] == title, "each answer shows the task with its own write applied"
    final = await db.fetchrow("SELECT version FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task["id"]))
    assert final is not None
    versions = [r.json()["data"]["version"] for r in responses]
    assert final["version"] == max(versions)
