"""POST /api/{user_id}/tasks: what a successful create answers and what it stores."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
TASK_FIELDS = {
    "id",
    "user_id",
    "title",
    "description",
    "status",
    "priority",
    "completed",
    "due_date",
    "tags",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
    "parent_id",
    "position",
    "recurrence",
    "last_completed_at",
}


async def post(client: AsyncTestClient[Litestar], user: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create a task; assert 201 and the success envelope; answer the task."""
    response = await client.post(f"/api/{user}/tasks", json=body, headers=auth(user))
    assert response.status_code == 201, response.text
    envelope = response.json()
    assert set(envelope) == {"status", "data"}
    assert envelope["status"] == "success"
    task: dict[str, Any] = envelope["data"]
    return task


async def stored(db: asyncpg.Connection, user: str, task_id: str) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task_id))
    assert row is not None
    return row


async def test_create_minimal_answers_201_with_headers_and_defaults(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    response = await client.post(f"/api/{user}/tasks", json={"title": "Write the report"}, headers=auth(user))

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"status", "data"}
    assert body["status"] == "success"
    task = body["data"]
    assert set(task) == TASK_FIELDS
    assert str(UUID(task["id"])) == task["id"]  # lower-case, hyphenated
    assert response.headers["location"] == f"/api/{user}/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert task["user_id"] == user
    assert task["title"] == "Write the report"
    assert task["description"] is None
    assert task["status"] == "pending"
    assert task["priority"] == "medium"
    assert task["completed"] is False
    assert task["due_date"] is None
    assert task["tags"] == []
    assert task["completed_at"] is None
    assert (task["recurrence"], task["last_completed_at"]) == (None, None)
    assert task["version"] == 1
    assert type(task["version"]) is int
    assert task["parent_id"] is None
    assert task["position"] == "a0"  # the user's first task: the first key
    assert RFC3339_UTC.fullmatch(task["created_at"]), task["created_at"]
    assert RFC3339_UTC.fullmatch(task["updated_at"]), task["updated_at"]

    row = await stored(db, user, task["id"])
    assert row["title"] == "Write the report"
    assert row["status"] == "pending"
    assert row["version"] == 1
    assert row["deleted_at"] is None


async def test_create_with_every_field(client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str) -> None:
    task = await post(
        client,
        user,
        {
            "title": "Quarterly report",
            "description": "Numbers from finance first",
            "status": "in_progress",
            "priority": "high",
            "due_date": "2026-03-01T17:00:00Z",
            "tags": ["work", "q1"],
        },
    )
    assert task["description"] == "Numbers from finance first"
    assert task["status"] == "in_progress"
    assert task["priority"] == "high"
    assert task["completed"] is False
    assert task["due_date"] == "2026-03-01T17:00:00Z"
    assert task["tags"] == ["work", "q1"]
    assert task["completed_at"] is None
    row = await stored(db, user, task["id"])
    assert row["priority"] == "high"
    assert row["tags"] == ["work", "q1"]


async def test_create_trims_title_and_description(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await post(client, user, {"title": "\u3000\t  Buy milk \n", "description": "  two litres\u00a0 "})
    assert task["title"] == "Buy milk"
    assert task["description"] == "two litres"
    row = await stored(db, user, task["id"])
    assert row["title"] == "Buy milk"
    assert row["description"] == "two litres"


async def test_create_completed_shorthand_sets_status_and_completed_at(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await post(client, user, {"title": "Done already", "completed": True})
    assert task["status"] == "completed"
    assert task["completed"] is True
    assert task["completed_at"] is not None
    assert RFC3339_UTC.fullmatch(task["completed_at"])
    row = await stored(db, user, task["id"])
    assert row["status"] == "completed"
    assert row["completed_at"] is not None


async def test_create_completed_false_is_pending(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await post(client, user, {"title": "Not yet", "completed": False})
    assert task["status"] == "pending"
    assert task["completed"] is False
    assert task["completed_at"] is None


async def test_create_with_status_completed_sets_completed_at(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await post(client, user, {"title": "Done", "status": "completed", "completed": True})
    assert task["status"] == "completed"
    assert task["completed"] is True
    assert task["completed_at"] is not None


async def test_create_tags_are_lower_cased_trimmed_and_deduplicated_in_first_order(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await post(client, user, {"title": "Tagged", "tags": ["Work", " Q1 ", "WORK", "home", "q1", "work"]})
    assert task["tags"] == ["work", "q1", "home"]
    row = await stored(db, user, task["id"])
    assert row["tags"] == ["work", "q1", "home"]


async def test_create_due_date_with_offset_is_returned_in_utc(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await post(client, user, {"title": "Due", "due_date": "2026-03-01T18:30:00+01:00"})
    assert task["due_date"] == "2026-03-01T17:30:00Z"
    task = await post(client, user, {"title": "Due west", "due_date": "2026-03-01T23:00:00-05:00"})
    assert task["due_date"] == "2026-03-02T04:00:00Z"


async def test_create_due_date_fraction_is_truncated_not_rounded(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await post(client, user, {"title": "Precise", "due_date": "2026-03-01T17:00:00.9999999Z"})
    assert task["due_date"] == "2026-03-01T17:00:00.999999Z"
    row = await stored(db, user, task["id"])
    assert row["due_date"].microsecond == 999999
    assert row["due_date"].second == 0


async def test_create_due_date_keeps_microseconds(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await post(client, user, {"title": "Micro", "due_date": "2026-03-01T17:00:00.123456+00:00"})
    assert task["due_date"] == "2026-03-01T17:00:00.123456Z"


async def test_create_counts_characters_not_bytes(client: AsyncTestClient[Litestar], user: str) -> None:
    title = "\U0001f600" * 500  # 500 code points, 2000 bytes of UTF-8
    task = await post(client, user, {"title": title, "tags": ["\u00e9" * 50]})
    assert task["title"] == title
    assert task["tags"] == ["\u00e9" * 50]


async def test_create_json_with_charset_parameter_is_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    response = await client.post(
        f"/api/{user}/tasks",
        content=b'{"title": "charset"}',
        headers={**auth(user), "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["title"] == "charset"


async def test_created_task_is_readable_and_listed(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await post(client, user, {"title": "Round trip", "tags": ["a"]})
    response = await client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == task
    response = await client.get(f"/api/{user}/tasks", headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [task]
