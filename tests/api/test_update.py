"""PUT (full replace), PATCH (partial), PATCH .../complete, versions, timestamps and If-Match."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

JSON = {"Content-Type": "application/json"}
FULL: dict[str, Any] = {
    "title": "Full",
    "description": "described",
    "status": "in_progress",
    "priority": "high",
    "due_date": "2026-03-01T17:00:00Z",
    "tags": ["work", "q1"],
}


def url(user: str, task_id: str, suffix: str = "") -> str:
    return f"/api/{user}/tasks/{task_id}{suffix}"


def ok(response: Response) -> dict[str, Any]:
    """A 200 with one task and its ETag; answers the task."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "data"}
    assert body["status"] == "success"
    task: dict[str, Any] = body["data"]
    assert response.headers["etag"] == f'"{task["version"]}"'
    return task


def assert_error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert (body["status"], body["code"]) == ("error", code)


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def snapshot(db: asyncpg.Connection, user: str, task_id: str) -> dict[str, Any]:
    row = await db.fetchrow("SELECT * FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task_id))
    assert row is not None
    return dict(row)


async def put(client: AsyncTestClient[Litestar], user: str, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return ok(await client.put(url(user, task_id), json=body, headers=auth(user)))


async def patch(client: AsyncTestClient[Litestar], user: str, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return ok(await client.patch(url(user, task_id), json=body, headers=auth(user)))


async def complete(
    client: AsyncTestClient[Litestar], user: str, task_id: str, content: bytes | None = None
) -> Response:
    """PATCH .../complete; a body (even an empty one) is sent as application/json."""
    headers = {**auth(user), **(JSON if content is not None else {})}
    return await client.patch(url(user, task_id, "/complete"), content=content, headers=headers)


def assert_changed(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after["version"] == before["version"] + 1
    assert ts(after["updated_at"]) > ts(before["updated_at"])
    assert after["created_at"] == before["created_at"]


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after == before


# -- PUT ----------------------------------------------------------------------------------------------


async def test_put_replaces_every_field_and_omitted_ones_go_back_to_defaults(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, **FULL)
    after = await put(client, user, task["id"], {"title": "  Replaced  "})
    assert after["title"] == "Replaced"
    assert after["description"] is None
    assert after["status"] == "pending"
    assert after["priority"] == "medium"
    assert after["due_date"] is None
    assert after["tags"] == []
    assert after["completed"] is False
    assert after["completed_at"] is None
    assert_changed(task, after)
    row = await snapshot(db, user, task["id"])
    assert (row["title"], row["description"], row["tags"], row["version"]) == ("Replaced", None, [], 2)


async def test_put_sets_every_field(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    after = await put(
        client, user, task["id"], {**FULL, "tags": ["A", "a", "B"], "due_date": "2026-03-01T19:00:00+02:00"}
    )
    assert after["description"] == "described"
    assert after["status"] == "in_progress"
    assert after["priority"] == "high"
    assert after["due_date"] == "2026-03-01T17:00:00Z"
    assert after["tags"] == ["a", "b"]


async def test_put_completed_true_completes(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user)
    after = await put(client, user, task["id"], {"title": "A task", "completed": True})
    assert (after["status"], after["completed"]) == ("completed", True)
    assert after["completed_at"] is not None
    assert (await snapshot(db, user, task["id"]))["completed_at"] is not None


async def test_put_completed_false_on_completed_task_is_pending(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, completed=True)
    after = await put(client, user, task["id"], {"title": "A task", "completed": False})
    assert (after["status"], after["completed"], after["completed_at"]) == ("pending", False, None)
    assert_changed(task, after)


async def test_put_omitted_status_on_completed_task_is_pending(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, status="completed")
    after = await put(client, user, task["id"], {"title": "A task"})
    assert (after["status"], after["completed_at"]) == ("pending", None)


async def test_put_with_the_same_fields_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, **FULL)
    before = await snapshot(db, user, task["id"])
    after = await put(client, user, task["id"], {**FULL, "title": " Full ", "tags": ["WORK", "q1", "work"]})
    assert_unchanged(task, after)
    assert await snapshot(db, user, task["id"]) == before


# -- PATCH --------------------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_present(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, **FULL)
    after = await patch(client, user, task["id"], {"priority": "low"})
    assert after["priority"] == "low"
    assert {k: v for k, v in after.items() if k not in ("priority", "version", "updated_at")} == {
        k: v for k, v in task.items() if k not in ("priority", "version", "updated_at")
    }
    assert_changed(task, after)
    assert (await snapshot(db, user, task["id"]))["priority"] == "low"


@pytest.mark.parametrize("field", ["description", "due_date"])
async def test_patch_null_clears_description_and_due_date(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, field: str
) -> None:
    task = await create_task(client, user, **FULL)
    after = await patch(client, user, task["id"], {field: None})
    assert after[field] is None
    assert after["title"] == "Full"
    assert (await snapshot(db, user, task["id"]))[field] is None


@pytest.mark.parametrize("field", ["title", "status", "priority", "tags", "completed"])
async def test_patch_null_on_a_required_field_is_422_and_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, field: str
) -> None:
    task = await create_task(client, user, **FULL)
    before = await snapshot(db, user, task["id"])
    response = await client.patch(url(user, task["id"]), json={field: None}, headers=auth(user))
    assert_error(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in response.json()["details"]["errors"]] == [field]
    assert await snapshot(db, user, task["id"]) == before


async def test_patch_tags_empty_list_clears_them(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, tags=["a", "b"])
    assert (await patch(client, user, task["id"], {"tags": []}))["tags"] == []


async def test_patch_status_sets_and_clears_completed_at(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user)
    done = await patch(client, user, task["id"], {"status": "completed"})
    assert (done["completed"], done["version"]) == (True, 2)
    assert done["completed_at"] is not None
    assert (await snapshot(db, user, task["id"]))["completed_at"] is not None
    again = await patch(client, user, task["id"], {"status": "in_progress"})
    assert (again["completed"], again["completed_at"], again["version"]) == (False, None, 3)
    assert (await snapshot(db, user, task["id"]))["completed_at"] is None


async def test_patch_completed_shorthand(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, status="in_progress")
    unchanged = await patch(client, user, task["id"], {"completed": False})
    assert_unchanged(task, unchanged)
    done = await patch(client, user, task["id"], {"completed": True})
    assert (done["status"], done["version"]) == ("completed", 2)
    undone = await patch(client, user, task["id"], {"completed": False})
    assert (undone["status"], undone["completed_at"], undone["version"]) == ("pending", None, 3)


async def test_patch_that_changes_nothing_keeps_version_and_updated_at(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, **FULL)
    before = await snapshot(db, user, task["id"])
    same = {"title": "Full ", "priority": "high", "tags": ["Work", "q1"], "due_date": "2026-03-01T18:00:00+01:00"}
    after = await patch(client, user, task["id"], same)
    assert_unchanged(task, after)
    assert await snapshot(db, user, task["id"]) == before


# -- PATCH .../complete -------------------------------------------------------------------------------


async def test_complete_without_body_toggles_both_ways(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user)
    done = ok(await complete(client, user, task["id"]))
    assert (done["status"], done["completed"], done["version"]) == ("completed", True, 2)
    assert done["completed_at"] is not None
    assert_changed(task, done)
    undone = ok(await complete(client, user, task["id"]))
    assert (undone["status"], undone["completed"], undone["completed_at"], undone["version"]) == (
        "pending",
        False,
        None,
        3,
    )
    row = await snapshot(db, user, task["id"])
    assert (row["status"], row["completed_at"], row["version"]) == ("pending", None, 3)


async def test_complete_toggle_of_in_progress_completes(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user, status="in_progress")
    assert ok(await complete(client, user, task["id"]))["status"] == "completed"


@pytest.mark.parametrize("content", [b"", b"{}", b" { } "], ids=["empty", "{}", "spaced"])
async def test_complete_empty_json_body_toggles(client: AsyncTestClient[Litestar], user: str, content: bytes) -> None:
    task = await create_task(client, user)
    assert ok(await complete(client, user, task["id"], content))["status"] == "completed"
    assert ok(await complete(client, user, task["id"], content))["status"] == "pending"


async def test_complete_true_on_completed_task_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, completed=True)
    before = await snapshot(db, user, task["id"])
    after = ok(await complete(client, user, task["id"], b'{"completed": true}'))
    assert_unchanged(task, after)
    assert await snapshot(db, user, task["id"]) == before


async def test_complete_false_on_in_progress_task_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, status="in_progress")
    before = await snapshot(db, user, task["id"])
    after = ok(await complete(client, user, task["id"], b'{"completed": false}'))
    assert_unchanged(task, after)
    assert await snapshot(db, user, task["id"]) == before


async def test_complete_sets_explicitly(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    done = ok(await complete(client, user, task["id"], b'{"completed": true}'))
    assert (done["status"], done["version"]) == ("completed", 2)
    undone = ok(await complete(client, user, task["id"], b'{"completed": false}'))
    assert (undone["status"], undone["version"]) == ("pending", 3)


@pytest.mark.parametrize("content", [b"null", b'{"completed": "yes"}', b'{"completed": null}', b"true"])
async def test_complete_bad_body_is_422_and_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, content: bytes
) -> None:
    task = await create_task(client, user)
    before = await snapshot(db, user, task["id"])
    assert_error(await complete(client, user, task["id"], content), 422, "VALIDATION_ERROR")
    assert await snapshot(db, user, task["id"]) == before


async def test_completed_at_is_kept_while_the_task_stays_completed(
    client: AsyncTestClient[Litestar], user: str
) -> None:
    task = await create_task(client, user, completed=True)
    after = await patch(client, user, task["id"], {"title": "renamed"})
    assert after["completed_at"] == task["completed_at"]
    assert after["version"] == 2


# -- If-Match -----------------------------------------------------------------------------------------

WRITES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "put": ("PUT", "", {"title": "changed"}),
    "patch": ("PATCH", "", {"title": "changed"}),
    "complete": ("PATCH", "/complete", None),
    "delete": ("DELETE", "", None),
}


async def write(client: AsyncTestClient[Litestar], user: str, task_id: str, kind: str, if_match: str) -> Response:
    method, suffix, body = WRITES[kind]
    headers = {**auth(user), "If-Match": if_match}
    return await client.request(method, url(user, task_id, suffix), json=body, headers=headers)


@pytest.mark.parametrize("kind", list(WRITES))
async def test_if_match_current_version_succeeds(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, kind: str
) -> None:
    task = await create_task(client, user)
    response = await write(client, user, task["id"], kind, '"1"')
    assert response.status_code == (204 if kind == "delete" else 200), response.text
    assert (await snapshot(db, user, task["id"]))["version"] == 2


@pytest.mark.parametrize("if_match", ['"1"', '"7"', 'W/"1"', '"abc"', "garbage"])
@pytest.mark.parametrize("kind", list(WRITES))
async def test_if_match_stale_is_412_and_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, kind: str, if_match: str
) -> None:
    task = await create_task(client, user)
    await patch(client, user, task["id"], {"title": "v2"})
    before = await snapshot(db, user, task["id"])
    response = await write(client, user, task["id"], kind, if_match)
    assert_error(response, 412, "PRECONDITION_FAILED")
    assert await snapshot(db, user, task["id"]) == before
    assert response.headers["etag"] == '"2"'  # the task's current ETag: a client can retry with it


@pytest.mark.parametrize("kind", list(WRITES))
async def test_the_etag_of_a_412_makes_the_retry_succeed(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, kind: str
) -> None:
    task = await create_task(client, user)
    await patch(client, user, task["id"], {"title": "v2"})
    await patch(client, user, task["id"], {"title": "v3"})
    stale = await write(client, user, task["id"], kind, '"1"')
    assert_error(stale, 412, "PRECONDITION_FAILED")
    retry = await write(client, user, task["id"], kind, stale.headers["etag"])
    assert retry.status_code == (204 if kind == "delete" else 200), retry.text
    assert (await snapshot(db, user, task["id"]))["version"] == 4


@pytest.mark.parametrize("kind", list(WRITES))
async def test_if_match_on_another_users_task_is_404(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, other_user: str, kind: str
) -> None:
    task = await create_task(client, user)
    before = await snapshot(db, user, task["id"])
    assert_error(await write(client, other_user, task["id"], kind, '"1"'), 404, "TASK_NOT_FOUND")
    assert_error(await write(client, other_user, task["id"], kind, '"9"'), 404, "TASK_NOT_FOUND")
    assert await snapshot(db, user, task["id"]) == before


@pytest.mark.parametrize("kind", list(WRITES))
async def test_if_match_on_unknown_task_is_404(client: AsyncTestClient[Litestar], user: str, kind: str) -> None:
    assert_error(await write(client, user, str(UUID(int=7)), kind, '"1"'), 404, "TASK_NOT_FOUND")


async def test_etag_of_a_write_can_be_sent_back_as_if_match(client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(client, user)
    first = await client.patch(url(user, task["id"]), json={"title": "one"}, headers=auth(user))
    etag = first.headers["etag"]
    assert etag == '"2"'
    second = await client.patch(url(user, task["id"]), json={"title": "two"}, headers={**auth(user), "If-Match": etag})
    assert ok(second)["version"] == 3
