"""parent_id on POST, PUT and PATCH: one level, every rule at its boundary, and isolation (422, never a leak)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.helpers import auth
from tests.order.helpers import create, field_errors, get, write


def fresh_user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


async def test_a_subtask_goes_last_under_its_parent(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent = await create(http, user, title="Trip")
    first = await create(http, user, title="Book", parent_id=parent["id"])
    second = await create(http, user, title="Pack", parent_id=parent["id"])
    top = await create(http, user, title="Other")
    assert first["parent_id"] == second["parent_id"] == parent["id"]
    assert first["position"] < second["position"]
    assert parent["position"] < top["position"] and top["parent_id"] is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_a_parent_must_be_a_live_top_level_task_of_the_user(http: httpx.AsyncClient, method: str) -> None:
    user, other = fresh_user(), fresh_user()
    parent = await create(http, user, title="Parent")
    child = await create(http, user, title="Child", parent_id=parent["id"])
    gone = await create(http, user, title="Gone")
    await write(http, "DELETE", user, f"/{gone['id']}", expect=204)
    foreign = await create(http, other, title="Someone else's")
    task = await create(http, user, title="Me")
    bad_parents = {
        "a subtask (two levels)": child["id"],
        "deleted": gone["id"],
        "another user's": foreign["id"],
        "unknown": str(uuid.uuid4()),
    }
    if method != "POST":
        bad_parents["itself"] = task["id"]
    for reason, parent_id in bad_parents.items():
        body = {"title": "Me", "parent_id": parent_id}
        path = "" if method == "POST" else f"/{task['id']}"
        answer = await write(http, method, user, path, body, expect=422)
        assert field_errors(answer) == ["parent_id"], reason
        assert "another user" not in answer["details"]["errors"][0]["message"]  # the same words for every case
    assert await get(http, user, task["id"]) == task  # nothing changed
    assert (await get(http, other, foreign["id"])) == foreign  # nothing read or touched


async def test_a_task_with_live_subtasks_cannot_get_a_parent(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    first, second = await create(http, user, title="First"), await create(http, user, title="Second")
    sub = await create(http, user, title="Sub", parent_id=first["id"])
    answer = await write(http, "PATCH", user, f"/{first['id']}", {"parent_id": second["id"]}, expect=422)
    assert field_errors(answer) == ["parent_id"]
    # Once its subtask is deleted, it can.
    await write(http, "DELETE", user, f"/{sub['id']}", expect=204)
    moved = (await write(http, "PATCH", user, f"/{first['id']}", {"parent_id": second["id"]}))["data"]
    assert moved["parent_id"] == second["id"] and moved["version"] == first["version"] + 1


async def test_a_parent_change_goes_after_the_last_sibling_and_put_without_parent_makes_it_top_level(
    http: httpx.AsyncClient,
) -> None:
    user = fresh_user()
    parent = await create(http, user, title="Parent")
    sub = await create(http, user, title="Sub", parent_id=parent["id"])
    loose = await create(http, user, title="Loose")
    adopted = (await write(http, "PATCH", user, f"/{loose['id']}", {"parent_id": parent["id"]}))["data"]
    assert adopted["parent_id"] == parent["id"] and adopted["position"] > sub["position"]
    # The same parent again changes nothing.
    again = (await write(http, "PATCH", user, f"/{loose['id']}", {"parent_id": parent["id"]}))["data"]
    assert again == adopted
    # PUT is a full replace: no parent_id means top level again, after the last top-level task.
    latest = await create(http, user, title="Latest")
    freed = (await write(http, "PUT", user, f"/{loose['id']}", {"title": "Loose"}))["data"]
    assert freed["parent_id"] is None and freed["position"] > latest["position"]
    assert freed["version"] == adopted["version"] + 1
    # PATCH with parent_id null does the same; without parent_id it keeps the parent.
    back = (await write(http, "PATCH", user, f"/{sub['id']}", {"title": "Renamed"}))["data"]
    assert back["parent_id"] == parent["id"]
    out = (await write(http, "PATCH", user, f"/{sub['id']}", {"parent_id": None}))["data"]
    assert out["parent_id"] is None and out["position"] > freed["position"]


async def test_a_client_chosen_id_is_used_once_per_user_and_free_for_others(http: httpx.AsyncClient) -> None:
    user, other = fresh_user(), fresh_user()
    chosen = str(uuid.uuid4())
    task = await create(http, user, id=chosen.upper(), title="Offline")
    assert task["id"] == chosen
    response = await http.post(f"/api/{user}/tasks", json={"id": chosen, "title": "Again"}, headers=auth(user))
    assert response.status_code == 409 and response.json()["code"] == "TASK_EXISTS"
    await write(http, "DELETE", user, f"/{chosen}", expect=204)
    response = await http.post(f"/api/{user}/tasks", json={"id": chosen, "title": "Again"}, headers=auth(user))
    assert response.status_code == 409 and response.json()["code"] == "TASK_EXISTS"  # deleted ids stay taken
    assert (await create(http, other, id=chosen, title="Theirs"))["id"] == chosen  # ids are per user


async def test_a_client_id_with_an_idempotency_key_replays_instead_of_409(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    body = {"id": str(uuid.uuid4()), "title": "Queued offline"}
    headers = {**auth(user), "Idempotency-Key": "replay-1"}
    first = await http.post(f"/api/{user}/tasks", json=body, headers=headers)
    again = await http.post(f"/api/{user}/tasks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["data"] == again.json()["data"]
    other_body = await http.post(f"/api/{user}/tasks", json={**body, "title": "x"}, headers=headers)
    assert other_body.status_code == 409 and other_body.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize("value", ["not-a-uuid", 7, None])
async def test_a_malformed_client_id_is_422_naming_id(http: httpx.AsyncClient, value: object) -> None:
    user = fresh_user()
    answer = await write(http, "POST", user, "", {"title": "t", "id": value}, expect=422)
    assert field_errors(answer) == ["id"]
