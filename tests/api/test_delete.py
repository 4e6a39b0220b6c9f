"""DELETE: 204, then the task is gone from every route, but the row stays (soft delete)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

AFTER_DELETE: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "get": ("GET", "", None),
    "put": ("PUT", "", {"title": "back from the dead"}),
    "patch": ("PATCH", "", {"title": "back from the dead"}),
    "complete": ("PATCH", "/complete", None),
    "complete with body": ("PATCH", "/complete", {"completed": True}),
    "delete": ("DELETE", "", None),
}


def assert_task_not_found(response: Response) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert (body["status"], body["code"], body["details"]) == ("error", "TASK_NOT_FOUND", None)
    assert isinstance(body["message"], str) and body["message"]


async def delete(client: AsyncTestClient[Litestar], user: str, task_id: str) -> Response:
    return await client.delete(f"/api/{user}/tasks/{task_id}", headers=auth(user))


async def row(db: asyncpg.Connection, user: str, task_id: str) -> dict[str, Any]:
    record = await db.fetchrow("SELECT * FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task_id))
    assert record is not None, "a soft delete keeps the row"
    return dict(record)


async def test_delete_answers_204_with_no_body(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    response = await delete(client, user, task["id"])
    assert response.status_code == 204, response.text
    assert response.content == b""


async def test_delete_is_soft(client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str) -> None:
    task = await create_task(client, user, title="Keep the row", tags=["x"])
    assert (await delete(client, user, task["id"])).status_code == 204
    stored = await row(db, user, task["id"])
    assert stored["status"] == "deleted"
    assert stored["deleted_at"] is not None
    assert stored["title"] == "Keep the row"
    assert stored["tags"] == ["x"]


async def test_delete_of_a_completed_task_is_soft(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, completed=True)
    assert (await delete(client, user, task["id"])).status_code == 204
    stored = await row(db, user, task["id"])
    assert (stored["status"], stored["deleted_at"] is not None) == ("deleted", True)


@pytest.mark.parametrize("route", list(AFTER_DELETE))
async def test_deleted_task_is_not_found_on_every_route(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, route: str
) -> None:
    task = await create_task(client, user)
    assert (await delete(client, user, task["id"])).status_code == 204
    before = await row(db, user, task["id"])
    method, suffix, body = AFTER_DELETE[route]
    response = await client.request(method, f"/api/{user}/tasks/{task['id']}{suffix}", json=body, headers=auth(user))
    assert_task_not_found(response)
    assert await row(db, user, task["id"]) == before


@pytest.mark.parametrize("if_match", ['"1"', '"2"', '"9"'])
async def test_deleted_task_with_if_match_is_404_not_412(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, if_match: str
) -> None:
    task = await create_task(client, user)
    assert (await delete(client, user, task["id"])).status_code == 204
    before = await row(db, user, task["id"])
    url = f"/api/{user}/tasks/{task['id']}"
    response = await client.patch(url, json={"title": "x"}, headers={**auth(user), "If-Match": if_match})
    assert_task_not_found(response)
    assert_task_not_found(await client.delete(url, headers={**auth(user), "If-Match": if_match}))
    assert await row(db, user, task["id"]) == before


async def test_deleted_task_is_not_listed(client: AsyncTestClient[Litestar], user: str) -> None:
    kept = await create_task(client, user, title="kept")
    gone = await create_task(client, user, title="gone")
    assert (await delete(client, user, gone["id"])).status_code == 204
    response = await client.get(f"/api/{user}/tasks", headers=auth(user))
    body = response.json()
    assert [t["id"] for t in body["data"]] == [kept["id"]]
    assert body["meta"]["total"] == 1


async def test_delete_of_unknown_or_malformed_id_is_404(client: AsyncTestClient[Litestar], user: str) -> None:
    assert_task_not_found(await delete(client, user, str(UUID(int=42))))
    assert_task_not_found(await delete(client, user, "not-a-uuid"))


async def test_delete_touches_only_that_task(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    other = await create_task(client, user, title="other")
    before = await row(db, user, other["id"])
    target = await create_task(client, user, title="target")
    assert (await delete(client, user, target["id"])).status_code == 204
    assert await row(db, user, other["id"]) == before
