"""Tenant isolation on every route: another user's task is 404 through one's own path, and 403 through theirs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

# name: (method, path after /api/{user_id}/tasks with {id} for the task, a valid body, an invalid body)
ROUTES: dict[str, tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = {
    "list": ("GET", "", None, None),
    "create": ("POST", "", {"title": "mine"}, {"title": "", "bogus": 1}),
    "get": ("GET", "/{id}", None, None),
    "put": ("PUT", "/{id}", {"title": "taken over"}, {"title": "", "version": 9}),
    "patch": ("PATCH", "/{id}", {"title": "taken over"}, {"tags": None}),
    "complete": ("PATCH", "/{id}/complete", None, {"completed": "yes"}),
    "complete with body": ("PATCH", "/{id}/complete", {"completed": True}, {"bogus": True}),
    "delete": ("DELETE", "/{id}", None, None),
}
TASK_ROUTES = [name for name, (_, path, _, _) in ROUTES.items() if "{id}" in path]


def assert_error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert (body["status"], body["code"], body["details"]) == ("error", code, None)


async def call(
    client: AsyncTestClient[Litestar],
    route: str,
    path_user: str,
    token_user: str,
    task_id: str,
    *,
    invalid: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    method, path, body, bad = ROUTES[route]
    url = f"/api/{path_user}/tasks" + path.format(id=task_id)
    return await client.request(
        method, url, json=bad if invalid else body, headers={**auth(token_user), **(headers or {})}
    )


async def rows(db: asyncpg.Connection, user: str) -> list[dict[str, Any]]:
    records = await db.fetch("SELECT * FROM tasks WHERE user_id = $1 ORDER BY id", user)
    return [dict(r) for r in records]


async def a_task(client: AsyncTestClient[Litestar], user: str) -> dict[str, Any]:
    return await create_task(
        client, user, title="A's secret", description="private", tags=["a"], priority="high", status="in_progress"
    )


# -- through one's own path: another user's task does not exist ---------------------------------------


@pytest.mark.parametrize("route", TASK_ROUTES)
async def test_other_users_task_is_not_found_through_own_path(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str, route: str
) -> None:
    task = await a_task(client, user)
    before = await rows(db, user)
    assert_error(await call(client, route, other_user, other_user, task["id"]), 404, "TASK_NOT_FOUND")
    assert await rows(db, user) == before
    assert await rows(db, other_user) == []


@pytest.mark.parametrize("route", TASK_ROUTES)
async def test_other_users_task_with_if_match_or_if_none_match_is_still_not_found(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str, route: str
) -> None:
    task = await a_task(client, user)
    before = await rows(db, user)
    headers = {"If-Match": '"1"', "If-None-Match": '"1"'}
    response = await call(client, route, other_user, other_user, task["id"], headers=headers)
    assert_error(response, 404, "TASK_NOT_FOUND")
    assert await rows(db, user) == before


async def test_list_never_shows_another_users_tasks(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str
) -> None:
    await a_task(client, user)
    await a_task(client, user)
    mine = await create_task(client, other_user, title="B's own")
    response = await call(client, "list", other_user, other_user, "")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["id"] for t in body["data"]] == [mine["id"]]
    assert {t["user_id"] for t in body["data"]} == {other_user}
    assert body["meta"]["total"] == 1
    assert len(await rows(db, user)) == 2


async def test_create_through_own_path_writes_only_own_task(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str
) -> None:
    await a_task(client, user)
    before = await rows(db, user)
    response = await call(client, "create", other_user, other_user, "")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["user_id"] == other_user
    assert await rows(db, user) == before
    assert [r["title"] for r in await rows(db, other_user)] == ["mine"]


async def test_same_task_id_is_independent_per_user(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str
) -> None:
    task = await a_task(client, user)
    await db.execute("INSERT INTO tasks (user_id, id, title) VALUES ($1, $2, 'B twin')", other_user, UUID(task["id"]))
    before = await rows(db, user)
    response = await call(client, "put", other_user, other_user, task["id"])
    assert response.status_code == 200, response.text
    assert response.json()["data"]["user_id"] == other_user
    assert await rows(db, user) == before
    response = await call(client, "get", user, user, task["id"])
    assert response.json()["data"]["title"] == "A's secret"


# -- through another user's path: 403, before anything else -------------------------------------------


@pytest.mark.parametrize("route", list(ROUTES))
async def test_token_of_another_user_on_their_path_is_forbidden(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str, route: str
) -> None:
    task = await a_task(client, user)
    before = await rows(db, user)
    assert_error(await call(client, route, user, other_user, task["id"]), 403, "FORBIDDEN")
    assert await rows(db, user) == before
    assert await rows(db, other_user) == []


@pytest.mark.parametrize("route", list(ROUTES))
async def test_forbidden_comes_before_not_found(
    client: AsyncTestClient[Litestar], user: str, other_user: str, route: str
) -> None:
    assert_error(await call(client, route, user, other_user, str(UUID(int=3))), 403, "FORBIDDEN")
    assert_error(await call(client, route, user, other_user, "not-a-uuid"), 403, "FORBIDDEN")


@pytest.mark.parametrize("route", [name for name, (_, _, _, bad) in ROUTES.items() if bad is not None])
async def test_forbidden_comes_before_body_validation(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str, route: str
) -> None:
    task = await a_task(client, user)
    before = await rows(db, user)
    assert_error(await call(client, route, user, other_user, task["id"], invalid=True), 403, "FORBIDDEN")
    assert await rows(db, user) == before


@pytest.mark.parametrize("route", ["create", "put", "patch", "complete with body"])
async def test_forbidden_comes_before_media_type_and_json_checks(
    client: AsyncTestClient[Litestar], user: str, other_user: str, route: str
) -> None:
    method, path, _, _ = ROUTES[route]
    url = f"/api/{user}/tasks" + path.format(id=str(UUID(int=3)))
    for content, content_type in [(b"{not json", "application/json"), (b"title=x", "text/plain")]:
        headers = {**auth(other_user), "Content-Type": content_type}
        assert_error(await client.request(method, url, content=content, headers=headers), 403, "FORBIDDEN")


async def test_forbidden_comes_before_list_query_validation(
    client: AsyncTestClient[Litestar], user: str, other_user: str
) -> None:
    response = await client.get(f"/api/{user}/tasks?limit=0&bogus=1", headers=auth(other_user))
    assert_error(response, 403, "FORBIDDEN")
