"""The read routes send the JSON PostgreSQL writes (sql/fragments/task_json.sql), byte for byte what msgspec
writes for the same task through the structs, as the write routes still answer: every field set and unset."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.feed import ChangesEnvelope, Tombstone
from service.schemas import ListMeta, Task, TaskEnvelope, TaskListEnvelope
from tests.helpers import auth

T = TypeVar("T")
RULE = {"rule": "freq=weekly;byday=mo,we", "timezone": "Europe/Berlin", "from": "completion"}
TASKS: list[dict[str, Any]] = [
    {"title": "bare"},
    {
        "title": 'every field: "quoted" \\ back',
        "description": "line one\nline two\ttab \u0001 \u001f \u007f \u2028 🎉 ünï",
        "status": "in_progress",
        "priority": "high",
        "due_date": "2026-03-01T17:00:00.000005+02:00",
        "tags": ["Work", "q1", "a\u0007b", "漢字"],
        "recurrence": RULE,
    },
    {"title": "due on a whole second", "due_date": "2026-03-01T17:00:00Z"},
    {"title": "due with trailing zeros", "due_date": "2026-03-01T17:00:00.1Z"},
    {"title": "first instant", "due_date": "0001-01-01T00:00:01Z"},
    {"title": "last instant", "due_date": "9999-12-31T23:59:59.999998Z"},
    {"title": "recurring, defaults", "due_date": "2026-03-02T09:00:00Z", "recurrence": {"rule": "FREQ=DAILY"}},
    {"title": "completed", "completed": True},
]


def strict(body: bytes, kind: type[T]) -> bytes:
    """The body as msgspec writes the values it holds: equal bytes mean the body is already msgspec's own."""
    return msgspec.json.encode(msgspec.json.decode(body, type=kind))


async def written(client: AsyncTestClient[Litestar], user: str) -> list[bytes]:
    """Each kind of task as its last write answered it (the struct path): created, then changed."""
    headers = auth(user)
    bodies = []
    for fields in TASKS:
        response = await client.post(f"/api/{user}/tasks", json=fields, headers=headers)
        assert response.status_code == 201, response.text
        bodies.append(response.content)
    parent = msgspec.json.decode(bodies[0], type=TaskEnvelope).data.id
    response = await client.post(
        f"/api/{user}/tasks", json={"title": "a subtask", "parent_id": str(parent)}, headers=headers
    )
    bodies.append(response.content)
    recurring = msgspec.json.decode(bodies[1], type=TaskEnvelope).data.id
    response = await client.patch(f"/api/{user}/tasks/{recurring}/complete", headers=headers)  # last_completed_at
    assert response.status_code == 200, response.text
    bodies[1] = response.content
    return bodies


async def test_get_one_sends_the_bytes_the_struct_path_writes(client: AsyncTestClient[Litestar], user: str) -> None:
    for body in await written(client, user):
        task = msgspec.json.decode(body, type=TaskEnvelope).data
        response = await client.get(f"/api/{user}/tasks/{task.id}", headers=auth(user))
        assert response.status_code == 200
        assert response.content == body
        assert response.headers["etag"] == f'"{task.version}"'
        assert response.headers["content-type"] == "application/json"


async def test_a_list_page_is_the_struct_envelope_of_its_tasks(client: AsyncTestClient[Litestar], user: str) -> None:
    tasks = [msgspec.json.decode(body, type=TaskEnvelope).data for body in await written(client, user)]
    tasks.sort(key=lambda task: task.title)
    for limit in (len(tasks), 3):
        response = await client.get(f"/api/{user}/tasks?sort=title&limit={limit}", headers=auth(user))
        assert response.status_code == 200
        meta = msgspec.json.decode(response.content, type=TaskListEnvelope).meta
        assert (meta.total, meta.limit, meta.next_cursor is None) == (len(tasks), limit, limit == len(tasks))
        expected = TaskListEnvelope(data=tasks[:limit], meta=ListMeta(len(tasks), limit, meta.next_cursor))
        assert response.content == msgspec.json.encode(expected)


async def test_an_empty_list_page(client: AsyncTestClient[Litestar], user: str) -> None:
    response = await client.get(f"/api/{user}/tasks", headers=auth(user))
    assert response.content == msgspec.json.encode(TaskListEnvelope(data=[], meta=ListMeta(0, 100, None)))


async def test_the_feed_sends_the_bytes_msgspec_writes(client: AsyncTestClient[Litestar], user: str) -> None:
    written_tasks = [msgspec.json.decode(body, type=TaskEnvelope).data for body in await written(client, user)]
    tasks = {task.id: task for task in written_tasks}
    full = await client.get(f"/api/{user}/tasks/changes", headers=auth(user))
    patched, leaf = [task.id for task in written_tasks[2:4]], written_tasks[7].id
    for task_id in patched:
        response = await client.patch(f"/api/{user}/tasks/{task_id}", json={"priority": "low"}, headers=auth(user))
        tasks[task_id] = msgspec.json.decode(response.content, type=TaskEnvelope).data
    assert (await client.delete(f"/api/{user}/tasks/{leaf}", headers=auth(user))).status_code == 204
    cursor = full.json()["meta"]["next_cursor"]
    incremental = await client.get(f"/api/{user}/tasks/changes?cursor={cursor}", headers=auth(user))
    pages = []
    for response in (full, incremental):
        assert response.status_code == 200
        assert response.content == strict(response.content, ChangesEnvelope)
        pages.append(msgspec.json.decode(response.content, type=ChangesEnvelope).data)
    before = {task.id: task for task in written_tasks}
    assert sorted(task.id for task in pages[0].changed) == sorted(before)
    assert all(task == before[task.id] for task in pages[0].changed)
    assert pages[0].deleted == []
    assert [task.id for task in pages[1].changed] == patched
    assert pages[1].changed == [tasks[task_id] for task_id in patched]
    [tombstone] = pages[1].deleted
    assert isinstance(tombstone, Tombstone) and tombstone.id == leaf
    assert tombstone.version == tasks[leaf].version + 1


def test_the_task_struct_writes_what_the_fixture_reads() -> None:
    """A guard on the test itself: decoding and encoding a Task is the identity on msgspec's own bytes."""
    body = b'{"status":"success","data":{"id":"00000000-0000-0000-0000-000000000001","user_id":"u","title":"t",'
    body += b'"description":null,"status":"pending","priority":"low","completed":false,"due_date":null,"tags":[],'
    body += b'"completed_at":null,"created_at":"2026-03-01T17:00:00.100000Z","updated_at":"2026-03-01T17:00:00Z",'
    body += b'"version":1,"parent_id":null,"position":"a0","recurrence":null,"last_completed_at":null}}'
    assert strict(body, TaskEnvelope) == body
    assert isinstance(msgspec.json.decode(body, type=TaskEnvelope).data, Task)
