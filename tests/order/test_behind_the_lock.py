"""One-statement writes whose snapshot is older than the counter lock they waited for run again under it.

A create, a completion and a delete each run as one statement when no write of the user commits between
the statement's start and its counter lock (sql/fragments/lock_counter.sql). Here another transaction holds
the lock, the write queues behind it (its snapshot already taken), and that transaction then adds a task
the write must take into account before it commits: a sibling to be placed after, a subtask to cascade to.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable

import asyncpg
import httpx
import pytest

from service import positions
from tests.helpers import auth, service_waits_on_a_lock
from tests.order.helpers import create, get, siblings

WAIT = 10.0


def fresh_user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def writer(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(migrated)
    try:
        yield connection
    finally:
        await connection.close()


async def _meanwhile(
    writer: asyncpg.Connection, db: asyncpg.Connection, user: str, request: Awaitable[httpx.Response], insert: str
) -> httpx.Response:
    """`request` queues on the user's counter while `writer` holds it; `writer` then inserts a task (as a
    write of the API would: counter bumped, task stamped) and commits; the request's answer."""
    async with writer.transaction():
        seq = await writer.fetchval(
            "UPDATE task_sync SET change_seq = change_seq + 1 WHERE user_id = $1 RETURNING change_seq", user
        )
        pending = asyncio.ensure_future(request)
        await service_waits_on_a_lock(db)
        await writer.execute(insert, user, seq)
    return await asyncio.wait_for(pending, WAIT)


async def test_a_create_queued_behind_a_sibling_committed_meanwhile_goes_after_it(
    http: httpx.AsyncClient, db: asyncpg.Connection, writer: asyncpg.Connection
) -> None:
    user = fresh_user()
    first = await create(http, user, title="First")
    after_first = positions.between(first["position"], None)  # where a create that missed the sibling would go
    insert = (
        "INSERT INTO tasks (user_id, title, change_seq, position)"
        f" VALUES ($1, 'Committed meanwhile', $2, '{after_first}')"
    )
    request = http.post(f"/api/{user}/tasks", json={"title": "Queued"}, headers=auth(user))
    response = await _meanwhile(writer, db, user, request, insert)
    assert response.status_code == 201, response.text
    order = [task["title"] for task in await siblings(http, user)]
    assert order == ["First", "Committed meanwhile", "Queued"]
    assert response.json()["data"]["position"] == positions.between(after_first, None)


@pytest.mark.parametrize(("method", "path", "status"), [("PATCH", "/complete", "completed"), ("DELETE", "", "deleted")])
async def test_a_status_change_queued_behind_a_new_subtask_cascades_to_it(
    http: httpx.AsyncClient, db: asyncpg.Connection, writer: asyncpg.Connection, method: str, path: str, status: str
) -> None:
    user = fresh_user()
    parent = await create(http, user, title="Parent")
    sub_id = uuid.uuid4()
    insert = (
        "INSERT INTO tasks (user_id, id, title, change_seq, parent_id)"
        f" VALUES ($1, '{sub_id}', 'Added meanwhile', $2, '{parent['id']}')"
    )
    request = http.request(method, f"/api/{user}/tasks/{parent['id']}{path}", headers=auth(user))
    response = await _meanwhile(writer, db, user, request, insert)
    assert response.status_code in (200, 204), response.text
    row = await db.fetchrow("SELECT status, change_seq FROM tasks WHERE user_id = $1 AND id = $2", user, sub_id)
    assert row is not None
    assert row["status"] == status
    head = await db.fetchval("SELECT change_seq FROM task_sync WHERE user_id = $1", user)
    assert row["change_seq"] == head  # stamped by the write's own bump, after the one committed meanwhile


async def test_a_change_of_title_queued_behind_another_write_applies(
    http: httpx.AsyncClient, db: asyncpg.Connection, writer: asyncpg.Connection
) -> None:
    """A change that cannot cascade reads no row but its locked task, the newest: no fresh snapshot needed."""
    user = fresh_user()
    task = await create(http, user, title="Before")
    insert = "INSERT INTO tasks (user_id, title, change_seq) VALUES ($1, 'Other', $2)"
    request = http.patch(f"/api/{user}/tasks/{task['id']}", json={"title": "After"}, headers=auth(user))
    response = await _meanwhile(writer, db, user, request, insert)
    assert response.status_code == 200, response.text
    assert (await get(http, user, task["id"]))["title"] == "After"


async def test_a_move_queued_behind_a_sibling_committed_meanwhile_goes_between_the_right_ones(
    http: httpx.AsyncClient, db: asyncpg.Connection, writer: asyncpg.Connection
) -> None:
    """The move reads where to go (tasks/move_target), then waits for the counter to write it (tasks/place):
    a sibling committed in between makes it read again under the lock."""
    user = fresh_user()
    first = await create(http, user, title="First")
    second = await create(http, user, title="Second")
    after_second = positions.between(second["position"], None)  # the key a move that missed the sibling takes
    insert = (
        "INSERT INTO tasks (user_id, title, change_seq, position)"
        f" VALUES ($1, 'Committed meanwhile', $2, '{after_second}')"
    )
    body = {"after_id": second["id"]}
    request = http.post(f"/api/{user}/tasks/{first['id']}/move", json=body, headers=auth(user))
    response = await _meanwhile(writer, db, user, request, insert)
    assert response.status_code == 200, response.text
    order = [task["title"] for task in await siblings(http, user)]
    assert order == ["Second", "First", "Committed meanwhile"]
    assert response.json()["data"]["position"] == positions.between(second["position"], after_second)
