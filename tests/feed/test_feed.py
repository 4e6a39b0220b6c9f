"""GET /api/{user_id}/tasks/changes: every rule of the contract's "Change feed" section."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.feed_cursors import FeedCursorCodec, FeedPosition
from tests.feed.sync import Replica, pull
from tests.helpers import auth, create_task

Client = AsyncTestClient[Litestar]


async def head(db: asyncpg.Connection, user: str) -> int:
    return int(await db.fetchval("SELECT coalesce((SELECT change_seq FROM task_sync WHERE user_id = $1), 0)", user))


async def live_tasks(client: Client, user: str) -> dict[str, dict[str, Any]]:
    response = await client.get(f"/api/{user}/tasks", params={"limit": 1000}, headers=auth(user))
    assert response.status_code == 200
    return {task["id"]: task for task in response.json()["data"]}


async def test_a_new_user_gets_an_empty_full_sync_and_a_cursor(client: Client, user: str) -> None:
    page = await pull(client, user)
    assert page["status"] == "success"
    assert page["data"] == {"changed": [], "deleted": []}
    assert page["meta"]["has_more"] is False
    assert page["meta"]["full_sync"] is True
    again = await pull(client, user, page["meta"]["next_cursor"])
    assert again["data"] == {"changed": [], "deleted": []}
    assert again["meta"] == {"next_cursor": page["meta"]["next_cursor"], "has_more": False, "full_sync": False}


async def test_a_full_sync_sends_every_live_task_once_across_pages(client: Client, user: str) -> None:
    tasks = [await create_task(client, user, title=f"task {n}") for n in range(7)]
    gone = tasks.pop(3)
    assert (await client.delete(f"/api/{user}/tasks/{gone['id']}", headers=auth(user))).status_code == 204
    replica = Replica()
    await replica.sync(client, user, limit=2)
    assert len(replica.pages) == 3
    assert all(page["meta"]["full_sync"] for page in replica.pages)
    assert [page["meta"]["has_more"] for page in replica.pages] == [True, True, False]
    sent = [task["id"] for page in replica.pages for task in page["data"]["changed"]]
    assert sorted(sent) == sorted(task["id"] for task in tasks)  # once each; the task deleted before: never
    assert all(page["data"]["deleted"] == [] for page in replica.pages)
    assert replica.tasks == await live_tasks(client, user)


async def test_a_task_deleted_during_a_full_sync_comes_as_a_tombstone(client: Client, user: str) -> None:
    first, second, third = [await create_task(client, user, title=f"task {n}") for n in range(3)]
    replica = Replica()
    replica.apply(await pull(client, user, limit=2))
    assert {task["id"] for task in replica.pages[0]["data"]["changed"]} == {first["id"], second["id"]}
    assert (await client.delete(f"/api/{user}/tasks/{first['id']}", headers=auth(user))).status_code == 204
    await replica.sync(client, user, limit=2)
    later = replica.pages[1:]
    assert all(page["meta"]["full_sync"] for page in later)
    tombstones = [tomb for page in later for tomb in page["data"]["deleted"]]
    assert [tomb["id"] for tomb in tombstones] == [first["id"]]
    assert set(replica.tasks) == {second["id"], third["id"]}


async def test_an_incremental_sync_sends_each_change_once_in_its_latest_state(client: Client, user: str) -> None:
    kept, edited, completed, deleted = [await create_task(client, user, title=f"task {n}") for n in range(4)]
    replica = Replica()
    await replica.sync(client, user)
    assert len(replica.tasks) == 4

    headers = auth(user)
    await client.patch(f"/api/{user}/tasks/{edited['id']}", json={"title": "once"}, headers=headers)
    await client.put(f"/api/{user}/tasks/{edited['id']}", json={"title": "twice"}, headers=headers)
    await client.patch(f"/api/{user}/tasks/{completed['id']}/complete", headers=headers)
    assert (await client.delete(f"/api/{user}/tasks/{deleted['id']}", headers=headers)).status_code == 204
    new = await create_task(client, user, title="new")
    await replica.sync(client, user)

    page = replica.pages[-1]
    assert page["meta"] == {"next_cursor": replica.cursor, "has_more": False, "full_sync": False}
    changed = {task["id"]: task for task in page["data"]["changed"]}
    assert sorted(changed) == sorted([edited["id"], completed["id"], new["id"]])
    assert changed[edited["id"]]["title"] == "twice" and changed[edited["id"]]["version"] == 3
    assert changed[completed["id"]]["status"] == "completed"
    [tombstone] = page["data"]["deleted"]
    assert set(tombstone) == {"id", "version", "deleted_at"}
    assert tombstone["id"] == deleted["id"]
    assert tombstone["version"] == deleted["version"] + 1  # a delete bumps the version
    assert tombstone["deleted_at"].endswith("Z")
    assert kept["id"] not in changed
    assert replica.tasks == await live_tasks(client, user)


async def test_a_task_created_and_deleted_after_the_cursor_is_only_a_tombstone(client: Client, user: str) -> None:
    replica = Replica()
    await replica.sync(client, user)
    task = await create_task(client, user)
    assert (await client.delete(f"/api/{user}/tasks/{task['id']}", headers=auth(user))).status_code == 204
    page = await pull(client, user, replica.cursor)
    assert page["data"]["changed"] == []
    assert [tomb["id"] for tomb in page["data"]["deleted"]] == [task["id"]]


async def test_limit_caps_changed_and_deleted_together(client: Client, user: str) -> None:
    replica = Replica()
    await replica.sync(client, user)
    tasks = [await create_task(client, user, title=f"task {n}") for n in range(3)]
    for task in tasks[:2]:
        await client.delete(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
    sizes = []
    while True:
        page = await pull(client, user, replica.cursor, limit=2)
        replica.apply(page)
        sizes.append(len(page["data"]["changed"]) + len(page["data"]["deleted"]))
        if not page["meta"]["has_more"]:
            break
    assert sizes == [2, 1]
    assert set(replica.tasks) == {tasks[2]["id"]}


async def test_a_write_that_changes_nothing_does_not_advance_the_feed(
    client: Client, db: asyncpg.Connection, user: str
) -> None:
    task = await create_task(client, user, title="same", priority="high")
    replica = Replica()
    await replica.sync(client, user)
    before = await head(db, user)
    headers = auth(user)
    path = f"/api/{user}/tasks/{task['id']}"
    for response in [
        await client.patch(path, json={"title": "same", "priority": "high"}, headers=headers),
        await client.put(path, json={"title": "same", "priority": "high"}, headers=headers),
        await client.patch(f"{path}/complete", json={"completed": False}, headers=headers),
        await client.patch(path, json={"title": "other"}, headers={**headers, "If-Match": '"9"'}),
    ]:
        assert response.status_code in (200, 412)
    assert (
        await client.delete(f"/api/{user}/tasks/{'0' * 8}-0000-0000-0000-{'0' * 12}", headers=headers)
    ).status_code == 404
    assert await head(db, user) == before
    page = await pull(client, user, replica.cursor)
    assert page["data"] == {"changed": [], "deleted": []}
    assert page["meta"]["next_cursor"] == replica.cursor


async def test_every_write_advances_the_feed_by_one(client: Client, db: asyncpg.Connection, user: str) -> None:
    task = await create_task(client, user)
    path, headers = f"/api/{user}/tasks/{task['id']}", auth(user)
    heads = [await head(db, user)]
    for request in [
        client.patch(path, json={"title": "b"}, headers=headers),
        client.put(path, json={"title": "c"}, headers=headers),
        client.patch(f"{path}/complete", headers=headers),
        client.delete(path, headers=headers),
    ]:
        assert (await request).status_code in (200, 204)
        heads.append(await head(db, user))
    assert heads == list(range(heads[0], heads[0] + 5))
    stamped = await db.fetchval("SELECT change_seq FROM tasks WHERE user_id = $1 AND id = $2", user, task["id"])
    assert stamped == heads[-1]


# -- query validation and cursors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("limit=0", ["limit"]),
        ("limit=1001", ["limit"]),
        ("limit=ten", ["limit"]),
        ("limit=-1", ["limit"]),
        ("limit=1&limit=2", ["limit"]),
        ("cursor=a&cursor=b", ["cursor"]),
        ("since=1", ["since"]),
        ("status=pending&limit=0", ["status", "limit"]),
        ("cursor=", ["cursor"]),
        ("cursor=not-a-cursor", ["cursor"]),
    ],
)
async def test_bad_query_parameters_are_422_naming_each(
    client: Client, user: str, query: str, fields: list[str]
) -> None:
    response = await client.get(f"/api/{user}/tasks/changes?{query}", headers=auth(user))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert sorted(error["field"] for error in body["details"]["errors"]) == sorted(fields)


async def test_limit_bounds_are_accepted(client: Client, user: str) -> None:
    for limit in (1, 1000):
        await pull(client, user, limit=limit)


async def test_a_list_cursor_is_not_a_feed_cursor(client: Client, user: str) -> None:
    for n in range(2):
        await create_task(client, user, title=f"t{n}")
    listed = await client.get(f"/api/{user}/tasks", params={"limit": 1}, headers=auth(user))
    list_cursor = listed.json()["meta"]["next_cursor"]
    response = await client.get(f"/api/{user}/tasks/changes", params={"cursor": list_cursor}, headers=auth(user))
    assert response.status_code == 422
    feed_cursor = (await pull(client, user, limit=1))["meta"]["next_cursor"]
    response = await client.get(f"/api/{user}/tasks", params={"cursor": feed_cursor}, headers=auth(user))
    assert response.status_code == 422


async def test_a_tampered_or_foreign_cursor_is_422(client: Client, app: Litestar, user: str, other_user: str) -> None:
    codec: FeedCursorCodec = app.state.feed_cursors
    foreign = codec.head(other_user, 0)
    payload, _, signature = codec.head(user, 0).partition(".")
    forged = codec.encode(user, FeedPosition(5)).partition(".")[0] + "." + signature
    for cursor in (foreign, forged, payload):
        response = await client.get(f"/api/{user}/tasks/changes", params={"cursor": cursor}, headers=auth(user))
        assert response.status_code == 422, cursor
        assert response.json()["details"]["errors"][0]["field"] == "cursor"


# -- the route itself ----------------------------------------------------------------------------


async def test_another_users_feed_is_403_and_no_token_is_401(client: Client, user: str, other_user: str) -> None:
    await create_task(client, other_user)
    response = await client.get(f"/api/{other_user}/tasks/changes", headers=auth(user))
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    response = await client.get(f"/api/{user}/tasks/changes")
    assert response.status_code == 401


async def test_the_feed_never_shows_another_users_task(client: Client, user: str, other_user: str) -> None:
    mine = await create_task(client, user)
    theirs = await create_task(client, other_user)
    await client.delete(f"/api/{other_user}/tasks/{theirs['id']}", headers=auth(other_user))
    replica = Replica()
    await replica.sync(client, user)
    replica_cursor = replica.cursor
    await create_task(client, other_user)
    page = await pull(client, user, replica_cursor)
    assert set(replica.tasks) == {mine["id"]}
    assert page["data"] == {"changed": [], "deleted": []}


async def test_changes_is_the_feed_not_a_task_lookup(client: Client, user: str) -> None:
    response = await client.get(f"/api/{user}/tasks/changes", headers=auth(user))
    assert response.status_code == 200
    assert set(response.json()["meta"]) == {"next_cursor", "has_more", "full_sync"}
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = await client.request(method, f"/api/{user}/tasks/changes", headers=auth(user))
        assert response.status_code == 405, method
        assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_the_openapi_document_describes_the_feed(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/{user_id}/tasks/changes"]["get"]
    assert {"200", "401", "403", "410", "422", "503"} <= set(operation["responses"])
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"user_id", "cursor", "limit"}
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert examples
