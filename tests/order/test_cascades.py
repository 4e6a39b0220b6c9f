"""Cascades, in the transaction of the write that causes them, each seen through the change feed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.feed.sync import Replica, pull
from tests.order.helpers import create, get, write


def fresh_user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


async def family(http: httpx.AsyncClient, user: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    parent = await create(http, user, title="Parent")
    subs = [
        await create(http, user, title="Open", parent_id=parent["id"]),
        await create(http, user, title="Started", parent_id=parent["id"], status="in_progress"),
        await create(http, user, title="Done", parent_id=parent["id"], status="completed"),
    ]
    return parent, subs


async def changes_after(http: httpx.AsyncClient, user: str, cursor: str) -> tuple[dict[str, Any], dict[str, Any]]:
    page = await pull(http, user, cursor)
    assert not page["meta"]["has_more"]
    changed = {task["id"]: task for task in page["data"]["changed"]}
    deleted = {tomb["id"]: tomb for tomb in page["data"]["deleted"]}
    return changed, deleted


async def test_deleting_a_task_deletes_its_live_subtasks(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent, subs = await family(http, user)
    replica = Replica()
    await replica.sync(http, user)
    await write(http, "DELETE", user, f"/{parent['id']}", expect=204)
    changed, deleted = await changes_after(http, user, str(replica.cursor))
    assert changed == {}
    assert set(deleted) == {parent["id"], *(sub["id"] for sub in subs)}
    for sub in subs:
        assert deleted[sub["id"]]["version"] == sub["version"] + 1
        await write(http, "GET", user, f"/{sub['id']}", expect=404)
    await replica.sync(http, user)
    assert replica.tasks == {}


async def test_completing_a_task_completes_its_open_subtasks_only(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent, (open_, started, done) = await family(http, user)
    unrelated = await create(http, user, title="Unrelated")
    cursor = (await pull(http, user))["meta"]["next_cursor"]
    completed = (await write(http, "PATCH", user, f"/{parent['id']}/complete"))["data"]
    assert completed["status"] == "completed"
    changed, deleted = await changes_after(http, user, cursor)
    assert deleted == {}
    assert set(changed) == {parent["id"], open_["id"], started["id"]}  # the done one and the unrelated stay
    for sub in (open_, started):
        assert changed[sub["id"]]["status"] == "completed" and changed[sub["id"]]["completed_at"] is not None
        assert changed[sub["id"]]["version"] == sub["version"] + 1
    assert await get(http, user, done["id"]) == done
    assert await get(http, user, unrelated["id"]) == unrelated


async def test_reopening_a_completed_subtask_reopens_its_completed_parent(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent, (open_, _, done) = await family(http, user)
    await write(http, "PATCH", user, f"/{parent['id']}", {"completed": True})
    parent_done = await get(http, user, parent["id"])
    cursor = (await pull(http, user))["meta"]["next_cursor"]
    reopened = (await write(http, "PATCH", user, f"/{done['id']}", {"status": "in_progress"}))["data"]
    assert reopened["status"] == "in_progress"
    changed, _ = await changes_after(http, user, cursor)
    assert set(changed) == {done["id"], parent["id"]}
    assert changed[parent["id"]]["status"] == "pending" and changed[parent["id"]]["completed_at"] is None
    assert changed[parent["id"]]["version"] == parent_done["version"] + 1
    assert (await get(http, user, open_["id"]))["status"] == "completed"  # other subtasks stay as they are


async def test_reopening_a_parent_leaves_its_subtasks(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent, subs = await family(http, user)
    await write(http, "PATCH", user, f"/{parent['id']}/complete")
    before = [await get(http, user, sub["id"]) for sub in subs]
    cursor = (await pull(http, user))["meta"]["next_cursor"]
    await write(http, "PATCH", user, f"/{parent['id']}/complete")  # toggles back to pending
    changed, _ = await changes_after(http, user, cursor)
    assert set(changed) == {parent["id"]}
    assert [await get(http, user, sub["id"]) for sub in subs] == before


async def test_reopening_a_subtask_of_an_open_parent_touches_only_the_subtask(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent, (_, _, done) = await family(http, user)
    cursor = (await pull(http, user))["meta"]["next_cursor"]
    await write(http, "PUT", user, f"/{done['id']}", {"title": "Done", "parent_id": parent["id"]})
    changed, _ = await changes_after(http, user, cursor)
    assert set(changed) == {done["id"]}  # PUT without status is pending: reopened, but the parent was open
    assert changed[done["id"]]["position"] == done["position"]  # same parent: same place
    assert await get(http, user, parent["id"]) == parent


async def test_a_write_that_changes_nothing_cascades_nothing(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent, _ = await family(http, user)
    await write(http, "PATCH", user, f"/{parent['id']}", {"status": "completed"})
    cursor = (await pull(http, user))["meta"]["next_cursor"]
    await write(http, "PATCH", user, f"/{parent['id']}", {"status": "completed"})
    changed, deleted = await changes_after(http, user, cursor)
    assert changed == {} and deleted == {}
