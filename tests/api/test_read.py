"""GET one task (ETag, If-None-Match, 404s) and GET the list (order, meta, limit, query parameter rules)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert body["status"] == "error"
    assert body["code"] == code
    return body


async def get_one(client: AsyncTestClient[Litestar], user: str, task_id: str, **headers: str) -> Response:
    return await client.get(f"/api/{user}/tasks/{task_id}", headers={**auth(user), **headers})


async def get_list(client: AsyncTestClient[Litestar], user: str, query: str = "") -> Response:
    return await client.get(f"/api/{user}/tasks{query}", headers=auth(user))


async def make_tasks(client: AsyncTestClient[Litestar], user: str, n: int) -> list[dict[str, Any]]:
    return [await create_task(client, user, title=f"task {i}") for i in range(n)]


# -- one task ---------------------------------------------------------------------------------------


async def test_get_answers_the_task_with_etag(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, title="Read me", description="body", tags=["x"])
    response = await get_one(client, user, task["id"])
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    assert response.json() == {"status": "success", "data": task}


async def test_get_etag_follows_the_version(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    response = await client.patch(f"/api/{user}/tasks/{task['id']}", json={"title": "v2"}, headers=auth(user))
    assert response.status_code == 200, response.text
    response = await get_one(client, user, task["id"])
    assert response.headers["etag"] == '"2"'
    assert response.json()["data"]["version"] == 2


@pytest.mark.parametrize(
    "task_id",
    ["not-a-uuid", "123", "3f0c9a8e-6f3e-4a4b-9a52-5b1c0f7e2d1", "3f0c9a8e6f3e4a4b9a525b1c0f7e2d11zz", "%20"],
)
async def test_get_malformed_id_is_task_not_found(client: AsyncTestClient[Litestar], user: str, task_id: str) -> None:
    assert_error(await get_one(client, user, task_id), 404, "TASK_NOT_FOUND")


async def test_get_unknown_id_is_task_not_found(client: AsyncTestClient[Litestar], user: str) -> None:
    assert_error(await get_one(client, user, str(uuid4())), 404, "TASK_NOT_FOUND")


async def test_if_none_match_current_etag_is_304_with_etag_and_no_body(
    client: AsyncTestClient[Litestar], user: str
) -> None:
    task = await create_task(client, user)
    response = await get_one(client, user, task["id"], **{"If-None-Match": '"1"'})
    assert response.status_code == 304, response.text
    assert response.headers["etag"] == '"1"'
    assert response.content == b""


async def test_if_none_match_in_a_list_of_etags_is_304(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    response = await get_one(client, user, task["id"], **{"If-None-Match": '"7", "1"'})
    assert response.status_code == 304, response.text
    assert response.content == b""


async def test_if_none_match_stale_etag_is_200(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    response = await client.patch(f"/api/{user}/tasks/{task['id']}", json={"title": "new"}, headers=auth(user))
    assert response.status_code == 200, response.text
    response = await get_one(client, user, task["id"], **{"If-None-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["data"]["title"] == "new"


async def test_if_none_match_on_unknown_task_is_404(client: AsyncTestClient[Litestar], user: str) -> None:
    response = await get_one(client, user, str(uuid4()), **{"If-None-Match": '"1"'})
    assert_error(response, 404, "TASK_NOT_FOUND")


# -- the list ---------------------------------------------------------------------------------------


async def test_list_is_newest_first_with_default_meta(client: AsyncTestClient[Litestar], user: str) -> None:
    tasks = await make_tasks(client, user, 3)
    response = await get_list(client, user)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "data", "meta"}
    assert body["status"] == "success"
    assert [t["id"] for t in body["data"]] == [t["id"] for t in reversed(tasks)]
    assert body["data"] == list(reversed(tasks))
    assert body["meta"] == {"total": 3, "limit": 100, "next_cursor": None}


async def test_list_of_a_new_user_is_empty(client: AsyncTestClient[Litestar], user: str) -> None:
    response = await get_list(client, user)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "data": [], "meta": {"total": 0, "limit": 100, "next_cursor": None}}


async def test_list_limit_1_answers_one_task_and_the_full_total(client: AsyncTestClient[Litestar], user: str) -> None:
    tasks = await make_tasks(client, user, 3)
    response = await get_list(client, user, "?limit=1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["id"] for t in body["data"]] == [tasks[-1]["id"]]
    assert body["meta"]["total"] == 3
    assert body["meta"]["limit"] == 1


async def test_list_limit_1000_is_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    await make_tasks(client, user, 2)
    response = await get_list(client, user, "?limit=1000")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 2
    assert body["meta"]["limit"] == 1000
    assert body["meta"]["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?limit=abc", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=1.5", "limit"),
        ("?limit=", "limit"),
        ("?limit=1&limit=2", "limit"),
        ("?bogus=1", "bogus"),
        ("?Limit=5", "Limit"),
    ],
)
async def test_list_bad_query_parameter_is_422_naming_it(
    client: AsyncTestClient[Litestar], user: str, query: str, field: str
) -> None:
    body = assert_error(await get_list(client, user, query), 422, "VALIDATION_ERROR")
    assert body["details"] is not None
    assert [e["field"] for e in body["details"]["errors"]] == [field]


async def test_list_names_every_bad_query_parameter(client: AsyncTestClient[Litestar], user: str) -> None:
    body = assert_error(await get_list(client, user, "?limit=0&foo=1&bar=2"), 422, "VALIDATION_ERROR")
    assert sorted(e["field"] for e in body["details"]["errors"]) == ["bar", "foo", "limit"]


async def test_deleted_tasks_are_neither_listed_nor_counted(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    tasks = await make_tasks(client, user, 3)
    response = await client.delete(f"/api/{user}/tasks/{tasks[1]['id']}", headers=auth(user))
    assert response.status_code == 204, response.text
    response = await get_list(client, user)
    body = response.json()
    assert [t["id"] for t in body["data"]] == [tasks[2]["id"], tasks[0]["id"]]
    assert body["meta"]["total"] == 2
    # the row is still there: the list hides it, it did not disappear
    assert await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user) == 3
    deleted = await db.fetchval("SELECT status FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(tasks[1]["id"]))
    assert deleted == "deleted"


async def test_other_routes_ignore_query_parameters(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    response = await client.get(f"/api/{user}/tasks/{task['id']}?bogus=1&limit=0", headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["id"] == task["id"]
