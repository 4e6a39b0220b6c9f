"""Completing a recurring task is one write like any other: the counter lock first, one version, one change in
the feed, one notification; concurrent completions each advance it once, from where the one before left it."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.feed.sync import pull
from tests.helpers import auth, service_waits_on_a_lock

Http = httpx.AsyncClient
DUE = datetime.fromisoformat("2031-01-01T09:00:00Z")
WAIT = 10.0


async def _recurring(http: Http, user: str) -> dict[str, Any]:
    body = {"title": "daily", "due_date": DUE.isoformat(), "recurrence": {"rule": "FREQ=DAILY"}}
    response = await http.post(f"/api/{user}/tasks", json=body, headers=auth(user))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


def _complete(http: Http, user: str, task_id: str) -> Any:
    return http.patch(f"/api/{user}/tasks/{task_id}/complete", headers=auth(user))


async def _head(db: asyncpg.Connection, user: str) -> int:
    return int(await db.fetchval("SELECT change_seq FROM task_sync WHERE user_id = $1", user))


async def test_concurrent_completions_advance_once_each(http: Http, db: asyncpg.Connection, user: str) -> None:
    task = await _recurring(http, user)
    head = await _head(db, user)
    responses = await asyncio.gather(*(_complete(http, user, task["id"]) for _ in range(8)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    answers = [r.json()["data"] for r in responses]
    # every occurrence exactly once: none skipped, none doubled
    dues = sorted(datetime.fromisoformat(a["due_date"]) for a in answers)
    assert dues == [DUE + timedelta(days=n) for n in range(1, 9)]
    assert sorted(a["version"] for a in answers) == list(range(2, 10))
    assert {a["status"] for a in answers} == {"pending"}
    assert await _head(db, user) == head + 8
    row = await db.fetchrow("SELECT completions, version FROM tasks WHERE user_id = $1 AND id = $2", user, task["id"])
    assert row is not None and (row["completions"], row["version"]) == (8, 9)


async def test_a_completion_is_one_change_in_the_feed(http: Http, db: asyncpg.Connection, user: str) -> None:
    task = await _recurring(http, user)
    before = await pull(http, user)
    head = await _head(db, user)
    done = await _complete(http, user, task["id"])
    assert done.status_code == 200
    assert await _head(db, user) == head + 1
    page = await pull(http, user, before["meta"]["next_cursor"])
    assert [t["id"] for t in page["data"]["changed"]] == [task["id"]]
    assert page["data"]["changed"][0] == done.json()["data"]


async def test_a_completion_notifies_once(http: Http, migrated: str, user: str) -> None:
    heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    listener = await asyncpg.connect(migrated)

    def hear(_: object, __: int, ___: str, payload: object) -> None:
        message = json.loads(str(payload))
        if message["user_id"] == user:
            heard.put_nowait(message)

    await listener.add_listener("task_changes", hear)
    try:
        task = await _recurring(http, user)
        created = await asyncio.wait_for(heard.get(), WAIT)
        assert (await _complete(http, user, task["id"])).status_code == 200
        completed = await asyncio.wait_for(heard.get(), WAIT)
        assert completed["seq"] == created["seq"] + 1
        await asyncio.sleep(0.2)
        assert heard.empty()
    finally:
        await listener.close()


async def test_the_completion_takes_the_counter_lock_before_the_task(
    http: Http, db: asyncpg.Connection, migrated: str, user: str
) -> None:
    task = await _recurring(http, user)
    holder = await asyncpg.connect(migrated)
    try:
        async with holder.transaction():
            await holder.execute("SELECT FROM task_sync WHERE user_id = $1 FOR UPDATE", user)
            write = asyncio.create_task(_complete(http, user, task["id"]))
            await service_waits_on_a_lock(db)
            async with db.transaction():
                free = await db.fetch(
                    "SELECT id FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE SKIP LOCKED", user, task["id"]
                )
            assert len(free) == 1
    finally:
        await holder.close()
    response = await asyncio.wait_for(write, WAIT)
    assert response.status_code == 200 and response.json()["data"]["due_date"] == "2031-01-02T09:00:00Z"
