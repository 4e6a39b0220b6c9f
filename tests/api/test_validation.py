"""Every rule of the Task table at its boundary; every rejected write leaves the database as it was."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

JSON = {"Content-Type": "application/json"}
# `id` may be chosen on create (see test_subtasks); PUT and PATCH still refuse it.
SERVER_OWNED = ["user_id", "created_at", "updated_at", "completed_at", "version", "position"]
TWENTY_TAGS = [f"tag{i}" for i in range(20)]


def assert_invalid(response: Response) -> dict[str, Any]:
    """A 422 in the error envelope; answers the envelope."""
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert body["status"] == "error"
    assert body["code"] == "VALIDATION_ERROR"
    assert isinstance(body["message"], str) and body["message"]
    return body


def error_fields(body: dict[str, Any]) -> list[str]:
    details = body["details"]
    assert details is not None, body
    assert set(details) == {"errors"}
    for error in details["errors"]:
        assert set(error) == {"field", "message"}
        assert isinstance(error["message"], str) and error["message"]
    return [error["field"] for error in details["errors"]]


async def count(db: asyncpg.Connection, user: str) -> int:
    value: int = await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user)
    return value


async def snapshot(db: asyncpg.Connection, user: str, task_id: str) -> dict[str, Any]:
    row = await db.fetchrow("SELECT * FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task_id))
    assert row is not None
    return dict(row)


async def post_raw(client: AsyncTestClient[Litestar], user: str, content: bytes) -> Response:
    return await client.post(f"/api/{user}/tasks", content=content, headers={**auth(user), **JSON})


async def reject_create(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, body: Any
) -> dict[str, Any]:
    """POST `body`: 422, and no task was written for the user."""
    response = await client.post(f"/api/{user}/tasks", json=body, headers=auth(user))
    envelope = assert_invalid(response)
    assert await count(db, user) == 0
    return envelope


async def accept_create(client: AsyncTestClient[Litestar], user: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/{user}/tasks", json=body, headers=auth(user))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


# -- accepted at the boundary --------------------------------------------------------------------


async def test_title_of_500_characters_with_surrounding_spaces_is_accepted(
    client: AsyncTestClient[Litestar], user: str
) -> None:
    task = await accept_create(client, user, {"title": "  " + "t" * 500 + "  "})
    assert task["title"] == "t" * 500


async def test_description_of_10000_characters_is_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await accept_create(client, user, {"title": "d", "description": "d" * 10_000})
    assert task["description"] == "d" * 10_000


@pytest.mark.parametrize("description", ["", "   ", "\n\t\u3000"])
async def test_empty_description_becomes_null(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, description: str
) -> None:
    task = await accept_create(client, user, {"title": "d", "description": description})
    assert task["description"] is None
    assert (await snapshot(db, user, task["id"]))["description"] is None


async def test_twenty_distinct_tags_are_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await accept_create(client, user, {"title": "t", "tags": TWENTY_TAGS})
    assert task["tags"] == TWENTY_TAGS


async def test_tag_limit_is_counted_after_merging_duplicates(client: AsyncTestClient[Litestar], user: str) -> None:
    tags = [*TWENTY_TAGS, "TAG0", " tag1 ", "Tag19", "tag5", "TAG7"]
    task = await accept_create(client, user, {"title": "t", "tags": tags})
    assert task["tags"] == TWENTY_TAGS


async def test_tag_of_50_characters_is_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await accept_create(client, user, {"title": "t", "tags": [" " + "x" * 50 + " "]})
    assert task["tags"] == ["x" * 50]


# -- rejected on create, naming the field --------------------------------------------------------

BAD_CREATE_BODIES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("title 501", {"title": "t" * 501}, ["title"]),
    ("title 501 after trim", {"title": " " + "t" * 501 + " "}, ["title"]),
    ("title blank", {"title": ""}, ["title"]),
    ("title whitespace", {"title": " \t\n\u3000 "}, ["title"]),
    ("title missing", {"description": "no title"}, ["title"]),
    ("title null", {"title": None}, ["title"]),
    ("title number", {"title": 5}, ["title"]),
    ("description 10001", {"title": "t", "description": "d" * 10_001}, ["description"]),
    ("description number", {"title": "t", "description": 5}, ["description"]),
    ("21 tags", {"title": "t", "tags": [*TWENTY_TAGS, "tag20"]}, ["tags"]),
    ("tag 51", {"title": "t", "tags": ["ok", "x" * 51]}, ["tags[1]"]),
    ("tag blank", {"title": "t", "tags": ["ok", "  "]}, ["tags[1]"]),
    ("tag empty", {"title": "t", "tags": [""]}, ["tags[0]"]),
    ("tag number", {"title": "t", "tags": ["ok", "fine", 5]}, ["tags[2]"]),
    ("tag null item", {"title": "t", "tags": [None]}, ["tags[0]"]),
    ("tags null", {"title": "t", "tags": None}, ["tags"]),
    ("tags string", {"title": "t", "tags": "work"}, ["tags"]),
    ("priority null", {"title": "t", "priority": None}, ["priority"]),
    ("status null", {"title": "t", "status": None}, ["status"]),
    ("priority enum", {"title": "t", "priority": "urgent"}, ["priority"]),
    ("priority case", {"title": "t", "priority": "HIGH"}, ["priority"]),
    ("priority number", {"title": "t", "priority": 1}, ["priority"]),
    ("status enum", {"title": "t", "status": "done"}, ["status"]),
    ("status deleted", {"title": "t", "status": "deleted"}, ["status"]),
    ("completed string", {"title": "t", "completed": "yes"}, ["completed"]),
    ("completed null", {"title": "t", "completed": None}, ["completed"]),
    ("completed number", {"title": "t", "completed": 1}, ["completed"]),
    ("due_date no offset", {"title": "t", "due_date": "2026-03-01T17:00:00"}, ["due_date"]),
    ("due_date date only", {"title": "t", "due_date": "2026-03-01"}, ["due_date"]),
    ("due_date invalid day", {"title": "t", "due_date": "2026-02-30T10:00:00Z"}, ["due_date"]),
    ("due_date invalid hour", {"title": "t", "due_date": "2026-03-01T25:00:00Z"}, ["due_date"]),
    ("due_date words", {"title": "t", "due_date": "tomorrow"}, ["due_date"]),
    ("due_date before year 1 in UTC", {"title": "t", "due_date": "0001-01-01T00:00:00+01:00"}, ["due_date"]),
    ("due_date after year 9999 in UTC", {"title": "t", "due_date": "9999-12-31T23:00:00-05:00"}, ["due_date"]),
    ("due_date number", {"title": "t", "due_date": 1767225600}, ["due_date"]),
    ("NUL in title", {"title": "a\x00b"}, ["title"]),
    ("NUL in description", {"title": "t", "description": "a\x00b"}, ["description"]),
    ("NUL in tag", {"title": "t", "tags": ["ok", "a\x00b"]}, ["tags[1]"]),
    ("unknown field", {"title": "t", "titel": "typo"}, ["titel"]),
    ("completed true vs pending", {"title": "t", "status": "pending", "completed": True}, ["completed"]),
    ("completed false vs completed", {"title": "t", "status": "completed", "completed": False}, ["completed"]),
    ("completed true vs in_progress", {"title": "t", "status": "in_progress", "completed": True}, ["completed"]),
]


@pytest.mark.parametrize(
    ("body", "fields"), [(b, f) for _, b, f in BAD_CREATE_BODIES], ids=[n for n, _, _ in BAD_CREATE_BODIES]
)
async def test_create_rejects_bad_field(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, body: dict[str, Any], fields: list[str]
) -> None:
    envelope = await reject_create(client, db, user, body)
    assert error_fields(envelope) == fields


@pytest.mark.parametrize("field", SERVER_OWNED)
async def test_create_rejects_server_owned_field(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, field: str
) -> None:
    value: Any = 1 if field == "version" else "a0" if field == "position" else "2026-03-01T17:00:00Z"
    if field == "user_id":
        value = user
    envelope = await reject_create(client, db, user, {"title": "t", field: value})
    assert error_fields(envelope) == [field]


async def test_several_bad_fields_are_all_listed(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    body = {
        "title": "   ",
        "description": "d" * 10_001,
        "priority": "urgent",
        "status": None,
        "due_date": "2026-03-01T17:00:00",
        "tags": ["ok", 7, "x" * 51, " "],
        "colour": "red",
        "version": 3,
    }
    envelope = await reject_create(client, db, user, body)
    assert sorted(error_fields(envelope)) == sorted(
        ["title", "description", "priority", "status", "due_date", "tags[1]", "tags[2]", "tags[3]", "colour", "version"]
    )


# -- bodies that are not a task at all -------------------------------------------------------------

WHOLE_BODY_ERRORS: list[tuple[str, bytes]] = [
    ("malformed", b'{"title": "t"'),
    ("trailing comma", b'{"title": "t",}'),
    ("single quotes", b"{'title': 't'}"),
    ("array", b'[{"title": "t"}]'),
    ("number", b"42"),
    ("string", b'"title"'),
    ("null", b"null"),
]


@pytest.mark.parametrize("content", [c for _, c in WHOLE_BODY_ERRORS], ids=[n for n, _ in WHOLE_BODY_ERRORS])
async def test_body_that_is_not_a_json_object_is_422_with_null_details(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, content: bytes
) -> None:
    envelope = assert_invalid(await post_raw(client, user, content))
    assert envelope["details"] is None
    assert await count(db, user) == 0


UNDECODABLE: list[tuple[str, bytes]] = [
    ("surrogate in title", b'{"title": "a\\ud800b"}'),
    ("surrogate in description", b'{"title": "t", "description": "\\udfff"}'),
    ("surrogate in tag", b'{"title": "t", "tags": ["\\ud800"]}'),
    ("escaped NUL in title", b'{"title": "a\\u0000b"}'),
    ("invalid UTF-8 in title", b'{"title": "caf\xc3("}'),
    ("lone continuation byte", b'{"title": "\x80"}'),
    ("latin-1 byte", b'{"title": "caf\xe9"}'),
    ("deeply nested body", b"[" * 20_000 + b"]" * 20_000),
    ("deeply nested field", b'{"title": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"),
    ("deeply nested unknown field", b'{"title": "t", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"),
]


@pytest.mark.parametrize("content", [c for _, c in UNDECODABLE], ids=[n for n, _ in UNDECODABLE])
async def test_undecodable_body_is_422_never_500(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, content: bytes
) -> None:
    assert_invalid(await post_raw(client, user, content))
    assert await count(db, user) == 0


# -- rejected on PUT / PATCH / complete: the task stays as it was ----------------------------------

BAD_UPDATE_BODIES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("title 501", {"title": "t" * 501}, ["title"]),
    ("title blank", {"title": "  "}, ["title"]),
    ("description 10001", {"title": "t", "description": "d" * 10_001}, ["description"]),
    ("21 tags", {"title": "t", "tags": [*TWENTY_TAGS, "tag20"]}, ["tags"]),
    ("tag 51", {"title": "t", "tags": ["x" * 51]}, ["tags[0]"]),
    ("tags null", {"title": "t", "tags": None}, ["tags"]),
    ("priority null", {"title": "t", "priority": None}, ["priority"]),
    ("status enum", {"title": "t", "status": "deleted"}, ["status"]),
    ("due_date no offset", {"title": "t", "due_date": "2026-03-01 17:00"}, ["due_date"]),
    ("NUL in description", {"title": "t", "description": "\x00"}, ["description"]),
    ("unknown field", {"title": "t", "done": True}, ["done"]),
    ("server-owned version", {"title": "t", "version": 1}, ["version"]),
    ("server-owned id", {"title": "t", "id": str(UUID(int=1))}, ["id"]),
    ("server-owned position", {"title": "t", "position": "a0"}, ["position"]),
    ("parent_id not a uuid", {"title": "t", "parent_id": "nope"}, ["parent_id"]),
    ("completed disagrees", {"title": "t", "status": "in_progress", "completed": True}, ["completed"]),
]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(
    ("body", "fields"), [(b, f) for _, b, f in BAD_UPDATE_BODIES], ids=[n for n, _, _ in BAD_UPDATE_BODIES]
)
async def test_update_rejects_bad_field_and_changes_nothing(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    user: str,
    method: str,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    task = await create_task(client, user, title="Keep me", description="as is", tags=["a"])
    before = await snapshot(db, user, task["id"])
    response = await client.request(method, f"/api/{user}/tasks/{task['id']}", json=body, headers=auth(user))
    assert error_fields(assert_invalid(response)) == fields
    assert await snapshot(db, user, task["id"]) == before


async def test_put_without_title_is_422_and_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, title="Keep me")
    before = await snapshot(db, user, task["id"])
    response = await client.put(f"/api/{user}/tasks/{task['id']}", json={"priority": "high"}, headers=auth(user))
    assert error_fields(assert_invalid(response)) == ["title"]
    assert await snapshot(db, user, task["id"]) == before


@pytest.mark.parametrize("content", [b"{}", b"{ }", b'{"title": "x"'], ids=["empty", "spaced", "malformed"])
async def test_patch_empty_object_or_malformed_is_422_with_null_details(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, content: bytes
) -> None:
    task = await create_task(client, user)
    before = await snapshot(db, user, task["id"])
    response = await client.patch(f"/api/{user}/tasks/{task['id']}", content=content, headers={**auth(user), **JSON})
    assert assert_invalid(response)["details"] is None
    assert await snapshot(db, user, task["id"]) == before


@pytest.mark.parametrize(
    ("content", "fields"),
    [(b'{"completed": "yes"}', ["completed"]), (b'{"done": true}', ["done"]), (b'{"version": 1}', ["version"])],
    ids=["wrong type", "unknown field", "server-owned"],
)
async def test_complete_rejects_bad_body_and_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, content: bytes, fields: list[str]
) -> None:
    task = await create_task(client, user)
    before = await snapshot(db, user, task["id"])
    url = f"/api/{user}/tasks/{task['id']}/complete"
    response = await client.patch(url, content=content, headers={**auth(user), **JSON})
    assert error_fields(assert_invalid(response)) == fields
    assert await snapshot(db, user, task["id"]) == before
