"""Every write locks the user's counter row before anything else, bumps it once when it changes something,
stamps the task and notifies; a write that changes nothing does none of it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg
import httpx
import pytest

from tests.helpers import auth, service_waits_on_a_lock

Http = httpx.AsyncClient
WAIT = 10.0


async def _create(http: Http, user: str, title: str = "a task") -> dict[str, Any]:
    response = await http.post(f"/api/{user}/tasks", json={"title": title}, headers=auth(user))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


Write = Callable[[Http, str, str], Coroutine[Any, Any, httpx.Response]]
WRITES: dict[str, Write] = {
    "patch": lambda http, user, task: http.patch(f"/api/{user}/tasks/{task}", json={"title": "b"}, headers=auth(user)),
    "put": lambda http, user, task: http.put(f"/api/{user}/tasks/{task}", json={"title": "c"}, headers=auth(user)),
    "complete": lambda http, user, task: http.patch(f"/api/{user}/tasks/{task}/complete", headers=auth(user)),
    "delete": lambda http, user, task: http.delete(f"/api/{user}/tasks/{task}", headers=auth(user)),
}


@pytest.mark.parametrize("kind", sorted(WRITES))
async def test_a_write_takes_the_counter_lock_before_the_task_lock(
    http: Http, db: asyncpg.Connection, migrated: str, user: str, kind: str
) -> None:
    task = await _create(http, user)
    holder = await asyncpg.connect(migrated)
    try:
        async with holder.transaction():
            await holder.execute("SELECT FROM task_sync WHERE user_id = $1 FOR UPDATE", user)
            write = asyncio.create_task(WRITES[kind](http, user, task["id"]))
            await service_waits_on_a_lock(db)
            # The write is queued on the counter; it has not locked the task's row yet.
            async with db.transaction():
                free = await db.fetch(
                    "SELECT id FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE SKIP LOCKED", user, task["id"]
                )
            assert len(free) == 1
    finally:
        await holder.close()
    response = await asyncio.wait_for(write, WAIT)
    assert response.status_code in (200, 204), response.text


async def test_a_create_with_a_key_takes_the_counter_lock_before_claiming_the_key(
    http: Http, db: asyncpg.Connection, migrated: str, user: str
) -> None:
    await _create(http, user)  # the user's counter row exists from here on
    holder = await asyncpg.connect(migrated)
    try:
        async with holder.transaction():
            await holder.execute("SELECT FROM task_sync WHERE user_id = $1 FOR UPDATE", user)
            headers = {**auth(user), "Idempotency-Key": "first-lock"}
            write = asyncio.create_task(http.post(f"/api/{user}/tasks", json={"title": "k"}, headers=headers))
            await service_waits_on_a_lock(db)
            # Had the write claimed the key, this insert would wait for it (and time out); it is rolled back.
            probe = db.transaction()
            await probe.start()
            try:
                await db.execute("SET LOCAL lock_timeout = '2s'")
                await db.execute(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, task_id)"
                    " VALUES ($1, 'first-lock', '\\x00', gen_random_uuid())",
                    user,
                )
            finally:
                await probe.rollback()
    finally:
        await holder.close()
    response = await asyncio.wait_for(write, WAIT)
    assert response.status_code == 201, response.text


async def test_a_change_notifies_once_with_the_new_counter_and_a_no_op_stays_silent(
    http: Http, db: asyncpg.Connection, migrated: str, user: str
) -> None:
    heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    listener = await asyncpg.connect(migrated)

    def hear(_: object, __: int, ___: str, payload: object) -> None:
        message = json.loads(str(payload))
        if message["user_id"] == user:
            heard.put_nowait(message)

    await listener.add_listener("task_changes", hear)
    try:
        task = await _create(http, user)
        created = await asyncio.wait_for(heard.get(), WAIT)
        patched = await http.patch(f"/api/{user}/tasks/{task['id']}", json={"title": "x"}, headers=auth(user))
        assert patched.status_code == 200
        changed = await asyncio.wait_for(heard.get(), WAIT)
        head = await db.fetchval("SELECT change_seq FROM task_sync WHERE user_id = $1", user)
        assert (created["seq"], changed["seq"]) == (head - 1, head)
        assert set(changed) == {"user_id", "seq", "at"}
        assert abs(changed["at"] - time.time()) < 60  # epoch seconds, not milliseconds

        same = await http.patch(f"/api/{user}/tasks/{task['id']}", json={"title": "x"}, headers=auth(user))
        assert same.status_code == 200 and same.json()["data"]["version"] == patched.json()["data"]["version"]
        marker = await _create(http, user, "marker")  # notifications arrive in commit order: this one comes next
        assert (await asyncio.wait_for(heard.get(), WAIT))["seq"] == head + 1
        assert heard.empty()
        assert marker["version"] == 1
    finally:
        await listener.close()
