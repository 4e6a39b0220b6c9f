"""POST .../tasks/{task_id}/move: every rule at its boundary, If-Match, no-ops, re-spacing, isolation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from service import positions
from tests.feed.sync import pull
from tests.order.helpers import create, field_errors, get, move, siblings, write


def fresh_user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


async def three(http: httpx.AsyncClient, user: str, **fields: Any) -> list[dict[str, Any]]:
    return [await create(http, user, title=title, **fields) for title in ("A", "B", "C")]


def titles(tasks: list[dict[str, Any]]) -> list[str]:
    return [task["title"] for task in tasks]


async def test_after_id_puts_the_task_right_after_that_sibling_and_null_first(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    a, b, c = await three(http, user)
    moved = (await move(http, user, c["id"], after_id=a["id"]))["data"]
    assert moved["version"] == c["version"] + 1 and a["position"] < moved["position"] < b["position"]
    assert titles(await siblings(http, user)) == ["A", "C", "B"]
    await move(http, user, b["id"], after_id=None)
    assert titles(await siblings(http, user)) == ["B", "A", "C"]
    await move(http, user, b["id"], after_id=c["id"])
    assert titles(await siblings(http, user)) == ["A", "C", "B"]


async def test_moving_a_task_where_it_already_is_changes_nothing(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    a, b, _ = await three(http, user)
    cursor = (await pull(http, user))["meta"]["next_cursor"]
    assert (await move(http, user, b["id"], after_id=a["id"]))["data"] == b
    assert (await move(http, user, a["id"], after_id=None, parent_id=None))["data"] == a
    page = await pull(http, user, cursor)
    assert page["data"] == {"changed": [], "deleted": []}


async def test_a_move_to_another_parent_and_back(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent = await create(http, user, title="Parent")
    x, y = await create(http, user, title="X", parent_id=parent["id"]), await create(http, user, title="Y")
    moved = (await move(http, user, y["id"], parent_id=parent["id"], after_id=None))["data"]
    assert moved["parent_id"] == parent["id"] and moved["position"] < x["position"]
    assert titles(await siblings(http, user, parent["id"])) == ["Y", "X"]
    # parent_id omitted keeps the parent: after_id is looked up under it
    await move(http, user, y["id"], after_id=x["id"])
    assert titles(await siblings(http, user, parent["id"])) == ["X", "Y"]
    back = (await move(http, user, y["id"], parent_id=None, after_id=parent["id"]))["data"]
    assert back["parent_id"] is None
    assert titles(await siblings(http, user)) == ["Parent", "Y"]


async def test_after_id_must_be_a_live_sibling_under_the_target_parent(http: httpx.AsyncClient) -> None:
    user, other = fresh_user(), fresh_user()
    parent = await create(http, user, title="Parent")
    sub = await create(http, user, title="Sub", parent_id=parent["id"])
    a, gone = await create(http, user, title="A"), await create(http, user, title="Gone")
    await write(http, "DELETE", user, f"/{gone['id']}", expect=204)
    foreign = await create(http, other, title="Theirs")
    bad = {
        "under another parent": sub["id"],
        "deleted": gone["id"],
        "another user's": foreign["id"],
        "unknown": str(uuid.uuid4()),
        "the task itself": a["id"],
    }
    for reason, after_id in bad.items():
        answer = await move(http, user, a["id"], expect=422, after_id=after_id)
        assert field_errors(answer) == ["after_id"], reason
    assert await get(http, user, a["id"]) == a
    assert await get(http, other, foreign["id"]) == foreign


async def test_the_target_parent_follows_the_parent_rules(http: httpx.AsyncClient) -> None:
    user, other = fresh_user(), fresh_user()
    parent = await create(http, user, title="Parent")
    sub = await create(http, user, title="Sub", parent_id=parent["id"])
    lonely = await create(http, user, title="Lonely")
    foreign = await create(http, other, title="Theirs")
    for reason, parent_id in {
        "a subtask": sub["id"],
        "another user's": foreign["id"],
        "itself": lonely["id"],
        "unknown": str(uuid.uuid4()),
    }.items():
        answer = await move(http, user, lonely["id"], expect=422, parent_id=parent_id, after_id=None)
        assert field_errors(answer) == ["parent_id"], reason
    # a task with live subtasks cannot go under another task
    answer = await move(http, user, parent["id"], expect=422, parent_id=lonely["id"], after_id=None)
    assert field_errors(answer) == ["parent_id"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["after_id"]),
        ({"after_id": "x"}, ["after_id"]),
        ({"after_id": None, "parent_id": 3}, ["parent_id"]),
        ({"after_id": None, "position": "a0"}, ["position"]),
    ],
)
async def test_a_malformed_body_is_422(http: httpx.AsyncClient, body: dict[str, Any], fields: list[str]) -> None:
    user = fresh_user()
    task = await create(http, user)
    assert field_errors(await move(http, user, task["id"], expect=422, **body)) == fields


async def test_if_match_and_unknown_tasks(http: httpx.AsyncClient) -> None:
    user, other = fresh_user(), fresh_user()
    a, b, _ = await three(http, user)
    answer = await move(http, user, b["id"], expect=412, headers={"If-Match": '"7"'}, after_id=None)
    assert answer["code"] == "PRECONDITION_FAILED"
    moved = await move(http, user, b["id"], headers={"If-Match": f'"{b["version"]}"'}, after_id=None)
    assert moved["data"]["version"] == b["version"] + 1
    assert (await move(http, other, a["id"], expect=404, after_id=None))["code"] == "TASK_NOT_FOUND"
    assert (await move(http, user, "not-a-uuid", expect=404, after_id=None))["code"] == "TASK_NOT_FOUND"


async def test_one_gap_split_past_the_limit_re_spaces_the_list_and_each_re_spaced_task_is_a_change(
    http: httpx.AsyncClient,
) -> None:
    user = fresh_user()
    a, _, _ = await three(http, user)
    x, y = await create(http, user, title="X"), await create(http, user, title="Y")
    previous = ""
    for drop in range(600):  # X and Y in turn right after A: every key halves the same gap
        mover, other = (x, y) if drop % 2 == 0 else (y, x)
        watch = len(previous) >= positions.MAX_LENGTH - 2
        before = await siblings(http, user) if watch else []
        cursor = (await pull(http, user))["meta"]["next_cursor"] if watch else ""
        key = (await move(http, user, mover["id"], after_id=a["id"]))["data"]["position"]
        assert len(key) <= positions.MAX_LENGTH
        if watch and len(key) < len(previous):
            after = await siblings(http, user)
            assert titles(after) == ["A", mover["title"], other["title"], "B", "C"]
            assert max(len(task["position"]) for task in after) <= 3
            old = {task["id"]: task for task in before}
            moved = {task["id"] for task in after if task["position"] != old[task["id"]]["position"]}
            assert mover["id"] in moved and len(moved) > 1
            page = await pull(http, user, cursor)
            changed = {task["id"]: task for task in page["data"]["changed"]}
            assert set(changed) == moved  # each re-spaced task reaches the feed, the others do not
            assert all(task["version"] == old[task_id]["version"] + 1 for task_id, task in changed.items())
            return
        previous = key
    raise AssertionError("600 drops into one gap and no re-spacing")
