"""POST /api/{user_id}/tasks/batch: the envelope, each operation by its single route's rules, atomic and
non-atomic failures, isolation between users, the body limit, and Idempotency-Key replays."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from tests.api.test_errors import assert_error
from tests.helpers import auth, create_task, make_settings

Client = AsyncTestClient[Litestar]


async def batch(
    client: Client, user: str, operations: Any, *, atomic: bool | None = None, key: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"operations": operations}
    if atomic is not None:
        body["atomic"] = atomic
    headers = auth(user) if key is None else {**auth(user), "Idempotency-Key": key}
    return await client.post(f"/api/{user}/tasks/batch", json=body, headers=headers)


def results(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    data: list[dict[str, Any]] = body["data"]
    return data


async def titles(db: asyncpg.Connection, user: str) -> list[str]:
    rows = await db.fetch(
        "SELECT title FROM tasks WHERE user_id = $1 AND status <> 'deleted' ORDER BY created_at, title", user
    )
    return [row["title"] for row in rows]


async def head(db: asyncpg.Connection, user: str) -> int:
    return int(await db.fetchval("SELECT coalesce(max(change_seq), 0) FROM task_sync WHERE user_id = $1", user))


# -- every operation, in order, seeing the ones before it -----------------------------------------


async def test_each_operation_answers_as_its_single_route(client: Client, user: str) -> None:
    task = await create_task(client, user, title="old")
    done = results(
        await batch(
            client,
            user,
            [
                {"op": "create", "data": {"title": " new ", "tags": ["A", "a"]}},
                {"op": "update", "id": task["id"], "data": {"priority": "high"}, "if_match": '"1"'},
                {"op": "replace", "id": task["id"], "data": {"title": "replaced"}},
                {"op": "complete", "id": task["id"]},
                {"op": "complete", "id": task["id"], "data": {"completed": True}},
                {"op": "delete", "id": task["id"], "if_match": '"4"'},
            ],
        )
    )
    assert [r["status"] for r in done] == [201, 200, 200, 200, 200, 204]
    assert done[0]["task"]["title"] == "new" and done[0]["task"]["tags"] == ["a"]
    assert done[1]["task"]["priority"] == "high" and done[1]["task"]["version"] == 2
    assert done[2]["task"]["priority"] == "medium" and done[2]["task"]["title"] == "replaced"  # PUT resets
    assert done[3]["task"]["status"] == "completed" and done[3]["task"]["version"] == 4  # a toggle
    assert done[4]["task"]["version"] == 4  # already completed: nothing to change
    assert done[5] == {"status": 204, "task": None}
    gone = await client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
    assert gone.status_code == 404


async def test_later_operations_see_earlier_ones(client: Client, db: asyncpg.Connection, user: str) -> None:
    created = results(await batch(client, user, [{"op": "create", "data": {"title": "first"}}]))[0]["task"]
    done = results(
        await batch(
            client,
            user,
            [
                {"op": "update", "id": created["id"], "data": {"title": "second"}},
                {"op": "update", "id": created["id"], "data": {"tags": ["x"]}, "if_match": '"2"'},
                {"op": "delete", "id": created["id"]},
                {"op": "update", "id": created["id"], "data": {"title": "too late"}},
            ],
        )
    )
    assert [r["status"] for r in done] == [200, 200, 204, 404]
    assert done[1]["task"] == {**done[1]["task"], "title": "second", "tags": ["x"], "version": 3}
    assert done[3]["error"]["code"] == "TASK_NOT_FOUND"
    assert await titles(db, user) == []


async def test_client_chosen_ids_subtasks_and_moves_in_one_batch(client: Client, user: str, other_user: str) -> None:
    parent, child, sibling = (str(uuid.uuid4()) for _ in range(3))
    theirs = await create_task(client, other_user, title="theirs")
    foreign = await create_task(client, other_user, title="foreign")
    done = results(
        await batch(
            client,
            user,
            [
                {"op": "create", "data": {"id": parent, "title": "parent"}},
                {"op": "create", "data": {"id": child, "title": "child", "parent_id": parent}},
                {"op": "create", "data": {"id": sibling, "title": "sibling", "parent_id": parent}},
                {"op": "move", "id": sibling, "data": {"after_id": None}},  # first among the subtasks
                {"op": "create", "data": {"id": parent, "title": "again"}},  # this user has it: 409
                {"op": "create", "data": {"id": theirs["id"], "title": "mine"}},  # another user's id: free
                {"op": "move", "id": child, "data": {"parent_id": foreign["id"], "after_id": None}},
                {"op": "move", "id": child, "data": {"after_id": foreign["id"]}},
                {"op": "move", "id": child, "data": {"after_id": sibling}, "if_match": '"9"'},
                {"op": "move", "id": theirs["id"], "data": {"after_id": None}},  # now this user's own task
                {"op": "complete", "id": parent},  # cascades to both subtasks
            ],
        )
    )
    assert [r["status"] for r in done] == [201, 201, 201, 200, 409, 201, 422, 422, 412, 200, 200]
    assert done[0]["task"]["id"] == parent and done[1]["task"]["parent_id"] == parent
    assert done[3]["task"]["position"] < done[1]["task"]["position"]
    assert done[4]["error"]["code"] == "TASK_EXISTS"
    assert [e["field"] for e in done[6]["error"]["details"]["errors"]] == ["parent_id"]
    assert [e["field"] for e in done[7]["error"]["details"]["errors"]] == ["after_id"]
    mine = [
        (await client.get(f"/api/{user}/tasks/{task}", headers=auth(user))).json()["data"] for task in (sibling, child)
    ]
    assert mine[0]["position"] < mine[1]["position"]  # the moved sibling first
    assert [(t["parent_id"], t["status"]) for t in mine] == [(parent, "completed")] * 2
    for task in (theirs, foreign):
        untouched = await client.get(f"/api/{other_user}/tasks/{task['id']}", headers=auth(other_user))
        assert untouched.json()["data"] == task


async def test_a_move_is_refused_in_the_envelope_without_its_data(client: Client, user: str) -> None:
    response = await batch(client, user, [{"op": "move", "id": str(uuid.uuid4())}])
    assert_error(response, 422, "VALIDATION_ERROR")


# -- failures: non-atomic isolates them, atomic undoes everything ---------------------------------


async def test_a_failed_operation_changes_nothing_and_the_rest_still_run(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, title="kept")
    done = results(
        await batch(
            client,
            user,
            [
                {"op": "create", "data": {"title": "one"}},
                {"op": "create", "data": {"title": "   ", "priority": "urgent"}},
                {"op": "update", "id": task["id"], "data": {"title": "lost"}, "if_match": '"7"'},
                {"op": "update", "id": task["id"], "data": {}},
                {"op": "update", "id": "not-a-uuid", "data": {"title": "x"}},
                {"op": "complete", "id": task["id"], "data": {"completed": "yes"}},
                {"op": "create", "data": {"title": "two"}},
            ],
        )
    )
    assert [r["status"] for r in done] == [201, 422, 412, 422, 404, 422, 201]
    invalid = done[1]["error"]
    assert invalid["code"] == "VALIDATION_ERROR"
    assert {e["field"] for e in invalid["details"]["errors"]} == {"title", "priority"}  # every bad field, as POST
    assert done[2]["error"] == {
        "code": "PRECONDITION_FAILED",
        "message": "The task has changed since that ETag; fetch it again and retry.",
        "details": None,
    }
    assert done[3]["error"]["message"] == "The body must change at least one field."
    assert set(done[4]) == {"status", "error"}
    assert await titles(db, user) == ["kept", "one", "two"]


async def test_a_database_rule_broken_by_one_operation_fails_only_that_operation(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, title="kept")
    # The structs accept any due date the database can store; the CHECK is the last line (0004_due_date_finite).
    # A title over the column's limit cannot pass the structs, so a direct CHECK breach is simulated by
    # a constraint added for this user only, inside the test's own scope.
    await db.execute(
        f"ALTER TABLE tasks ADD CONSTRAINT batch_probe_{user} CHECK (user_id <> '{user}' OR title <> 'forbidden')"
    )
    try:
        done = results(
            await batch(
                client,
                user,
                [
                    {"op": "update", "id": task["id"], "data": {"title": "forbidden"}},
                    {"op": "update", "id": task["id"], "data": {"title": "allowed"}},
                ],
            )
        )
    finally:
        await db.execute(f"ALTER TABLE tasks DROP CONSTRAINT batch_probe_{user}")
    assert [r["status"] for r in done] == [422, 200]
    assert done[1]["task"]["version"] == 2
    assert await titles(db, user) == ["allowed"]


async def test_an_atomic_batch_undoes_everything_at_the_first_failure(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, title="kept")
    before = await head(db, user)
    response = await batch(
        client,
        user,
        [
            {"op": "create", "data": {"title": "undone"}},
            {"op": "update", "id": task["id"], "data": {"title": "undone too"}},
            {"op": "delete", "id": str(uuid.uuid4())},
            {"op": "create", "data": {"title": "never run"}},
        ],
        atomic=True,
    )
    assert_error(response, 409, "BATCH_ABORTED")
    assert response.json()["details"] == {
        "index": 2,
        "status": 404,
        "error": {"code": "TASK_NOT_FOUND", "message": "No such task for this user.", "details": None},
    }
    assert await titles(db, user) == ["kept"]
    assert await head(db, user) == before  # the feed did not move


async def test_an_atomic_batch_that_succeeds_answers_every_result(client: Client, user: str) -> None:
    done = results(
        await batch(client, user, [{"op": "create", "data": {"title": f"t{i}"}} for i in range(3)], atomic=True)
    )
    assert [r["status"] for r in done] == [201, 201, 201]


# -- the envelope: malformed is 422 for the whole request, and nothing runs -------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"operations": {"op": "create"}}, "operations"),
        ({"operations": []}, "operations"),
        ({"operations": [{"op": "create", "data": {"title": "x"}}] * 101}, "operations"),
        ({}, "operations"),
        ({"operations": [{"op": "create", "data": {"title": "x"}}, {"op": "rename", "id": "x"}]}, "operations[1].op"),
        ({"operations": [{"op": "create", "data": {"title": "x"}}, {"data": {}}]}, "operations[1]"),
        ({"operations": [{"op": "create", "data": {"title": "x"}}, {"op": "update", "data": {}}]}, "operations[1]"),
        ({"operations": [{"op": "delete"}]}, "operations[0]"),
        ({"operations": [{"op": "create"}]}, "operations[0]"),
        ({"operations": [{"op": "delete", "id": 7}]}, "operations[0].id"),
        ({"operations": [{"op": "create", "data": {"title": "x"}, "id": "x"}]}, "operations[0]"),
        ({"operations": [{"op": "delete", "id": "x", "data": {}}]}, "operations[0]"),
        ({"operations": [{"op": "create", "data": {"title": "x"}}], "atomic": "yes"}, "atomic"),
        ({"operations": [{"op": "create", "data": {"title": "x"}}], "extra": 1}, "extra"),
    ],
)
async def test_a_malformed_envelope_is_422_and_runs_nothing(
    client: Client, db: asyncpg.Connection, user: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(f"/api/{user}/tasks/batch", json=body, headers=auth(user))
    assert_error(response, 422, "VALIDATION_ERROR")
    fields = [error["field"] for error in response.json()["details"]["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    assert await titles(db, user) == []


async def test_exactly_100_operations_are_accepted(client: Client, db: asyncpg.Connection, user: str) -> None:
    done = results(await batch(client, user, [{"op": "create", "data": {"title": f"t{i}"}} for i in range(100)]))
    assert len(done) == 100 and {r["status"] for r in done} == {201}
    assert len(await titles(db, user)) == 100


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"not json", "application/json", 422, "VALIDATION_ERROR"),
        (b"[]", "application/json", 422, "VALIDATION_ERROR"),
        (b'{"operations": [{"op": "delete", "id": "x"}]}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
async def test_a_body_that_is_not_a_json_envelope_is_refused(
    client: Client, user: str, content: bytes, content_type: str, status: int, code: str
) -> None:
    headers = {**auth(user), "Content-Type": content_type}
    assert_error(await client.post(f"/api/{user}/tasks/batch", content=content, headers=headers), status, code)


# -- isolation ----------------------------------------------------------------------------------


async def test_another_users_ids_are_404_per_operation_and_never_touched(
    client: Client, db: asyncpg.Connection, user: str, other_user: str
) -> None:
    theirs = await create_task(client, other_user, title="theirs")
    before = await db.fetchrow("SELECT * FROM tasks WHERE user_id = $1", other_user)
    ops = [
        {"op": "update", "id": theirs["id"], "data": {"title": "mine now"}},
        {"op": "replace", "id": theirs["id"], "data": {"title": "mine now"}},
        {"op": "complete", "id": theirs["id"]},
        {"op": "delete", "id": theirs["id"]},
    ]
    done = results(await batch(client, user, ops))
    assert [(r["status"], r["error"]["code"]) for r in done] == [(404, "TASK_NOT_FOUND")] * 4
    assert_error(await batch(client, user, ops, atomic=True), 409, "BATCH_ABORTED")
    assert await db.fetchrow("SELECT * FROM tasks WHERE user_id = $1", other_user) == before
    forbidden = await client.post(f"/api/{other_user}/tasks/batch", json={"operations": ops}, headers=auth(user))
    assert_error(forbidden, 403, "FORBIDDEN")


# -- Idempotency-Key ----------------------------------------------------------------------------


async def test_a_repeat_answers_the_first_answer_and_runs_nothing(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    ops = [{"op": "create", "data": {"title": "once"}}, {"op": "delete", "id": str(uuid.uuid4())}]
    first = await batch(client, user, ops, key="replay-1")
    before = await head(db, user)
    again = await batch(client, user, ops, key="replay-1")
    assert again.status_code == 200 and again.content == first.content
    assert await titles(db, user) == ["once"] and await head(db, user) == before
    assert_error(await batch(client, user, ops[:1], key="replay-1"), 409, "IDEMPOTENCY_KEY_REUSED")
    other = await batch(client, user, ops, key="replay-2")
    assert results(other)[0]["status"] == 201 and await titles(db, user) == ["once", "once"]


async def test_batch_keys_and_post_keys_are_apart(client: Client, db: asyncpg.Connection, user: str) -> None:
    headers = {**auth(user), "Idempotency-Key": "k1"}
    assert (await client.post(f"/api/{user}/tasks", json={"title": "p"}, headers=headers)).status_code == 201
    first = await batch(client, user, [{"op": "create", "data": {"title": "b"}}], key="k1")
    again = await batch(client, user, [{"op": "create", "data": {"title": "b"}}], key="k1")
    assert results(first)[0]["status"] == 201 and again.content == first.content
    repeat = await client.post(f"/api/{user}/tasks", json={"title": "p"}, headers=headers)
    assert repeat.status_code == 201 and await titles(db, user) == ["p", "b"]


async def test_a_key_over_24_hours_old_is_free_again(client: Client, db: asyncpg.Connection, user: str) -> None:
    ops = [{"op": "create", "data": {"title": "old"}}]
    results(await batch(client, user, ops, key="aged"))
    await db.execute("UPDATE batch_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1", user)
    results(await batch(client, user, ops[:1] * 2, key="aged"))  # another body: fine once the key expired
    assert await titles(db, user) == ["old", "old", "old"]


async def test_an_aborted_batch_keeps_no_key(client: Client, db: asyncpg.Connection, user: str) -> None:
    missing = str(uuid.uuid4())
    ops = [{"op": "create", "data": {"title": "x"}}, {"op": "delete", "id": missing}]
    assert_error(await batch(client, user, ops, atomic=True, key="abort-1"), 409, "BATCH_ABORTED")
    assert await db.fetchval("SELECT count(*) FROM batch_keys WHERE user_id = $1", user) == 0


async def test_an_invalid_key_is_422(client: Client, user: str) -> None:
    response = await batch(client, user, [{"op": "create", "data": {"title": "x"}}], key="has space")
    assert_error(response, 422, "VALIDATION_ERROR")


# -- the body limit -----------------------------------------------------------------------------


async def test_the_batch_has_its_own_body_limit(settings: Settings, user: str) -> None:
    small = create_app(make_settings(settings.database_url or "", max_batch_bytes=2000, max_body_bytes=300))
    async with AsyncTestClient(small) as client:
        fits = [{"op": "create", "data": {"title": "x" * 400}}]  # over MAX_BODY_BYTES, under MAX_BATCH_BYTES
        assert results(await batch(client, user, fits))[0]["status"] == 201
        too_big = [{"op": "create", "data": {"title": "x" * 400}}] * 5
        assert_error(await batch(client, user, too_big), 413, "PAYLOAD_TOO_LARGE")
        single = await client.post(f"/api/{user}/tasks", json={"title": "x" * 400}, headers=auth(user))
        assert_error(single, 413, "PAYLOAD_TOO_LARGE")


# -- the OpenAPI document -------------------------------------------------------------------------


async def test_the_route_is_documented_with_each_operations_body(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/{user_id}/tasks/batch"]["post"]
    assert {"200", "409", "413", "422"} <= set(operation["responses"])
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" not in json.dumps(schema)  # written out in full: nothing to resolve
    items = schema["properties"]["operations"]
    assert (items["minItems"], items["maxItems"]) == (1, 100)
    ops = {item["properties"]["op"]["enum"][0]: item for item in items["items"]["anyOf"]}
    assert list(ops) == ["create", "update", "replace", "complete", "move", "delete"]
    assert ops["create"]["properties"]["data"]["required"] == ["title"]
    assert ops["move"]["properties"]["data"]["required"] == ["after_id"]
    assert "data" not in ops["delete"]["properties"] and ops["delete"]["required"] == ["op", "id"]


async def test_complete_without_data_or_with_null_toggles_as_the_route_does(client: Client, user: str) -> None:
    task = await create_task(client, user, title="toggled")
    ops = [{"op": "complete", "id": task["id"]}, {"op": "complete", "id": task["id"], "data": None}]
    done = results(await batch(client, user, ops))
    assert [(r["task"]["status"], r["task"]["version"]) for r in done] == [("completed", 2), ("pending", 3)]
    invalid = results(await batch(client, user, [{"op": "complete", "id": task["id"], "data": {"done": True}}]))
    assert invalid[0]["status"] == 422 and invalid[0]["error"]["details"]["errors"][0]["field"] == "done"


async def test_completing_a_recurring_task_in_a_batch_moves_it_to_its_next_occurrence(
    client: Client, user: str
) -> None:
    task_id = str(uuid.uuid4())
    recurrence = {"rule": "FREQ=DAILY", "timezone": "UTC", "from": "due"}
    created = {"id": task_id, "title": "daily", "due_date": "2030-01-01T09:00:00Z", "recurrence": recurrence}
    done = results(
        await batch(client, user, [{"op": "create", "data": created}, {"op": "complete", "id": task_id}], atomic=True)
    )
    assert [r["status"] for r in done] == [201, 200]
    assert (done[1]["task"]["status"], done[1]["task"]["due_date"]) == ("pending", "2030-01-02T09:00:00Z")
    assert done[1]["task"]["last_completed_at"] is not None
