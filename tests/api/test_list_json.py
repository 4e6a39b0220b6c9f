"""Every kind of task reads the same in a list page as on its own route, timestamps included."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

VARIED: list[dict[str, Any]] = [
    {"title": "bare"},
    {"title": "full", "description": 'Line one\nline "two" \\ tab\t', "priority": "high", "tags": ["Work", "q1"]},
    {"title": "due whole second", "due_date": "2026-03-01T17:00:00Z"},
    {"title": "due with micros", "due_date": "2026-03-01T17:00:00.000005+02:00"},
    {"title": "due with trailing zeros", "due_date": "2026-03-01T17:00:00.1+00:00"},
    {"title": "ancient", "due_date": "0001-01-01T00:00:01Z"},
    {"title": "far", "due_date": "9999-12-31T23:59:59.999998Z"},
    {"title": "done", "completed": True},
    {"title": "ünïcödé ✓ 漢字 🎉", "description": "emoji 🎉 and \u2028 separator", "status": "in_progress"},
    {"title": "control \u0001 char", "tags": ["a\u0007b"]},
]


async def test_list_entries_equal_the_single_task_json(client: AsyncTestClient[Litestar], user: str) -> None:
    created = [await create_task(client, user, **fields) for fields in VARIED]
    listed = (await client.get(f"/api/{user}/tasks?limit=1000", headers=auth(user))).json()["data"]
    assert len(listed) == len(created)
    by_id = {task["id"]: task for task in listed}
    for task in created:
        single = (await client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user))).json()["data"]
        assert by_id[task["id"]] == single == task
    # Key order as the contract shows it, on both paths.
    assert list(listed[0]) == list(created[0])


async def test_list_timestamps_have_z_and_microseconds_only_when_non_zero(
    client: AsyncTestClient[Litestar], user: str
) -> None:
    await create_task(client, user, title="a", due_date="2026-03-01T17:00:00Z")
    await create_task(client, user, title="b", due_date="2026-03-01T17:00:00.5Z")
    listed = (await client.get(f"/api/{user}/tasks?sort=title", headers=auth(user))).json()["data"]
    assert [t["due_date"] for t in listed] == ["2026-03-01T17:00:00Z", "2026-03-01T17:00:00.500000Z"]


async def test_the_two_instants_the_driver_stores_as_infinity_are_refused(
    client: AsyncTestClient[Litestar], user: str
) -> None:
    for due in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.9999999Z"):
        response = await client.post(f"/api/{user}/tasks", json={"title": "t", "due_date": due}, headers=auth(user))
        assert response.status_code == 422, due
        assert response.json()["details"]["errors"][0]["field"] == "due_date"
