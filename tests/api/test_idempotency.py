"""POST /api/{user_id}/tasks with an Idempotency-Key: repeats, reuse, scope, deletion, validation, expiry."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth

Client = AsyncTestClient[Litestar]


async def post(client: Client, user: str, key: str | bytes, body: dict[str, Any] | bytes) -> httpx.Response:
    headers: dict[str, Any] = {**auth(user), "Idempotency-Key": key}
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        return await client.post(f"/api/{user}/tasks", content=body, headers=headers)
    return await client.post(f"/api/{user}/tasks", json=body, headers=headers)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    assert response.headers["Location"] == f"/api/{task['user_id']}/tasks/{task['id']}"
    assert response.headers["ETag"] == f'"{task["version"]}"'
    return task


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    code: str = body["code"]
    return code


async def count(db: asyncpg.Connection, user: str) -> int:
    value: int = await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user)
    return value


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


async def test_repeat_returns_the_original_task_and_creates_nothing(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    key, body = new_key(), {"title": "Pay rent", "priority": "high", "tags": ["home"]}
    first = created(await post(client, user, key, body))
    again = created(await post(client, user, key, body))

    assert again == first
    assert await count(db, user) == 1


async def test_repeat_returns_the_task_as_it_is_now(client: Client, db: asyncpg.Connection, user: str) -> None:
    key, body = new_key(), {"title": "Draft"}
    first = created(await post(client, user, key, body))
    patched = await client.patch(f"/api/{user}/tasks/{first['id']}", json={"title": "Final"}, headers=auth(user))
    assert patched.status_code == 200, patched.text

    again = created(await post(client, user, key, body))

    assert again["id"] == first["id"]
    assert again["title"] == "Final"
    assert again["version"] == first["version"] + 1
    assert again == patched.json()["data"]
    assert await count(db, user) == 1


async def test_key_order_and_spacing_do_not_change_the_body(client: Client, db: asyncpg.Connection, user: str) -> None:
    key = new_key()
    first = created(await post(client, user, key, b'{"title":"Same","priority":"low","tags":["a","b"]}'))
    spaced = b'{\n  "tags": [ "a", "b" ],\n  "priority" : "low",   "title": "Same"\n}\n'

    again = created(await post(client, user, key, spaced))

    assert again["id"] == first["id"]
    assert await count(db, user) == 1


@pytest.mark.parametrize(
    "other",
    [
        {"title": "Pay rent!"},
        {"title": "Pay rent", "tags": ["a", "b"], "priority": "medium"},  # a default spelled out: another JSON
        {"title": "Pay rent", "tags": ["b", "a"]},
    ],
)
async def test_same_key_with_another_body_is_409(
    client: Client, db: asyncpg.Connection, user: str, other: dict[str, Any]
) -> None:
    key = new_key()
    created(await post(client, user, key, {"title": "Pay rent", "tags": ["a", "b"]}))

    response = await post(client, user, key, other)

    assert error_code(response, 409) == "IDEMPOTENCY_KEY_REUSED"
    assert await count(db, user) == 1


async def test_keys_are_per_user(client: Client, db: asyncpg.Connection, user: str, other_user: str) -> None:
    key, body = new_key(), {"title": "Shared key"}
    mine = created(await post(client, user, key, body))
    theirs = created(await post(client, other_user, key, body))

    assert theirs["id"] != mine["id"]
    assert theirs["user_id"] == other_user
    assert await count(db, user) == 1
    assert await count(db, other_user) == 1
    assert created(await post(client, other_user, key, body))["id"] == theirs["id"]


@pytest.mark.parametrize("body", [{"title": "Gone"}, {"title": "Something else"}])
async def test_repeat_after_delete_is_404(client: Client, db: asyncpg.Connection, user: str, body: Any) -> None:
    key = new_key()
    first = created(await post(client, user, key, {"title": "Gone"}))
    deleted = await client.delete(f"/api/{user}/tasks/{first['id']}", headers=auth(user))
    assert deleted.status_code == 204

    response = await post(client, user, key, body)

    assert error_code(response, 404) == "TASK_NOT_FOUND"
    assert await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1 AND status <> 'deleted'", user) == 0


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "has space", " leading", "tab\there", "ключ".encode(), "caf\u00e9".encode("latin-1")],
    ids=["empty", "256", "space", "leading-space", "tab", "utf8", "latin1"],
)
async def test_invalid_key_is_422_naming_the_header(
    client: Client, db: asyncpg.Connection, user: str, key: str | bytes
) -> None:
    response = await post(client, user, key, {"title": "Never"})

    assert error_code(response, 422) == "VALIDATION_ERROR"
    assert [e["field"] for e in response.json()["details"]["errors"]] == ["Idempotency-Key"]
    assert await count(db, user) == 0


@pytest.mark.parametrize("key", ["k" * 255, "a", "!~#$%&'*+-.^_`|", "Z9"])
async def test_valid_key_shapes_are_accepted(client: Client, user: str, key: str) -> None:
    first = created(await post(client, user, key, {"title": "ok"}))
    assert created(await post(client, user, key, {"title": "ok"}))["id"] == first["id"]


async def test_a_rejected_request_does_not_use_up_its_key(client: Client, db: asyncpg.Connection, user: str) -> None:
    key = new_key()
    rejected = await post(client, user, key, {"title": "   "})
    assert error_code(rejected, 422) == "VALIDATION_ERROR"
    malformed = await post(client, user, key, b'{"title": ')
    assert error_code(malformed, 422) == "VALIDATION_ERROR"
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE user_id = $1", user) == 0

    first = created(await post(client, user, key, {"title": "Good"}))
    again = created(await post(client, user, key, {"title": "Good"}))

    assert again["id"] == first["id"]
    assert await count(db, user) == 1


async def test_a_key_older_than_24_hours_is_free_again(client: Client, db: asyncpg.Connection, user: str) -> None:
    key, body = new_key(), {"title": "Daily"}
    first = created(await post(client, user, key, body))
    await db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1", user)

    second = created(await post(client, user, key, body))
    assert second["id"] != first["id"]
    assert await count(db, user) == 2
    # The key now belongs to the new task, for the next 24 hours.
    assert created(await post(client, user, key, body))["id"] == second["id"]
    other = await post(client, user, key, {"title": "Changed"})
    assert error_code(other, 409) == "IDEMPOTENCY_KEY_REUSED"


async def test_a_key_younger_than_24_hours_still_binds(client: Client, db: asyncpg.Connection, user: str) -> None:
    key, body = new_key(), {"title": "Hourly"}
    first = created(await post(client, user, key, body))
    await db.execute("UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE user_id = $1", user)

    assert created(await post(client, user, key, body))["id"] == first["id"]
    assert await count(db, user) == 1
