"""Recurring tasks over HTTP: the field on create, PUT and PATCH, and completion by every route moving the
due date to the next occurrence instead of closing the task."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

Client = AsyncTestClient[Litestar]
BERLIN = ZoneInfo("Europe/Berlin")
WEEKLY = {"rule": "FREQ=WEEKLY;BYDAY=MO", "timezone": "Europe/Berlin"}
MONDAY = "2030-03-25T08:00:00Z"  # 09:00 in Berlin, the week before the clocks go forward (31 March 2030)


def url(user: str, task_id: str, suffix: str = "") -> str:
    return f"/api/{user}/tasks/{task_id}{suffix}"


def ok(response: Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    task: dict[str, Any] = response.json()["data"]
    return task


def errors(response: Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    return {e["field"]: e["message"] for e in body["details"]["errors"]}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def completions(db: asyncpg.Connection, user: str, task_id: str) -> int:
    count = await db.fetchval("SELECT completions FROM tasks WHERE user_id = $1 AND id = $2", user, UUID(task_id))
    return int(count)


async def recurring(client: Client, user: str, rule: str = "FREQ=WEEKLY;BYDAY=MO", **fields: Any) -> dict[str, Any]:
    recurrence = {"rule": rule, "timezone": "Europe/Berlin", **fields.pop("recurrence", {})}
    return await create_task(client, user, due_date=fields.pop("due_date", MONDAY), recurrence=recurrence, **fields)


# -- the field --------------------------------------------------------------------------------


async def test_create_fills_in_the_defaults(client: Client, user: str) -> None:
    task = await create_task(client, user, due_date=MONDAY, recurrence={"rule": "rrule:freq=daily"})
    assert task["recurrence"] == {"rule": "FREQ=DAILY", "timezone": "UTC", "from": "due"}
    assert task["last_completed_at"] is None
    assert ok(await client.get(url(user, task["id"]), headers=auth(user))) == task
    assert (await create_task(client, user))["recurrence"] is None


async def test_a_recurrence_needs_a_due_date(client: Client, user: str) -> None:
    response = await client.post(f"/api/{user}/tasks", json={"title": "t", "recurrence": WEEKLY}, headers=auth(user))
    assert errors(response) == {"recurrence": "needs a due_date"}


async def test_every_bad_field_is_listed_at_once(client: Client, user: str) -> None:
    body = {
        "title": " ",
        "due_date": MONDAY,
        "recurrence": {"rule": "FREQ=WEEKLY;WKST=SU", "timezone": "Europe/Berlinn", "from": "start", "x": 1},
        "last_completed_at": MONDAY,
    }
    found = errors(await client.post(f"/api/{user}/tasks", json=body, headers=auth(user)))
    assert set(found) == {
        "title",
        "recurrence.rule",
        "recurrence.timezone",
        "recurrence.from",
        "recurrence.x",
        "last_completed_at",
    }
    assert "WKST" in found["recurrence.rule"]
    assert found["last_completed_at"] == "is set by the server and cannot be sent"


@pytest.mark.parametrize(
    ("recurrence", "field"),
    [
        ({"rule": "FREQ=HOURLY"}, "recurrence.rule"),
        ({"rule": "FREQ=YEARLY;BYDAY=-1FR"}, "recurrence.rule"),
        ({"rule": "FREQ=DAILY", "timezone": "Nowhere/Land"}, "recurrence.timezone"),
        ({"rule": "FREQ=DAILY", "from": "start"}, "recurrence.from"),
        ({}, "recurrence.rule"),
        ("FREQ=DAILY", "recurrence"),
    ],
)
async def test_patch_names_the_bad_part(client: Client, user: str, recurrence: Any, field: str) -> None:
    task = await create_task(client, user, due_date=MONDAY)
    response = await client.patch(url(user, task["id"]), json={"recurrence": recurrence}, headers=auth(user))
    assert set(errors(response)) == {field}


async def test_patch_on_a_task_without_a_due_date_is_422(client: Client, user: str) -> None:
    task = await create_task(client, user)
    response = await client.patch(url(user, task["id"]), json={"recurrence": WEEKLY}, headers=auth(user))
    assert set(errors(response)) == {"recurrence"}
    assert ok(await client.get(url(user, task["id"]), headers=auth(user)))["version"] == 1


async def test_clearing_the_due_date_of_a_recurring_task_is_422(client: Client, user: str) -> None:
    task = await recurring(client, user)
    response = await client.patch(url(user, task["id"]), json={"due_date": None}, headers=auth(user))
    assert set(errors(response)) == {"due_date"}
    both = {"due_date": None, "recurrence": WEEKLY}
    assert set(errors(await client.patch(url(user, task["id"]), json=both, headers=auth(user)))) == {"recurrence"}
    stop = ok(
        await client.patch(url(user, task["id"]), json={"due_date": None, "recurrence": None}, headers=auth(user))
    )
    assert (stop["due_date"], stop["recurrence"]) == (None, None)


async def test_put_without_recurrence_stops_it(client: Client, user: str) -> None:
    task = await recurring(client, user)
    replaced = ok(await client.put(url(user, task["id"]), json={"title": "t", "due_date": MONDAY}, headers=auth(user)))
    assert replaced["recurrence"] is None and replaced["version"] == 2


# -- completing ---------------------------------------------------------------------------------

Complete = Callable[[Client, str, dict[str, Any]], Awaitable[Response]]
ROUTES: dict[str, Complete] = {
    "toggle": lambda c, u, t: c.patch(url(u, t["id"], "/complete"), headers=auth(u)),
    "set": lambda c, u, t: c.patch(url(u, t["id"], "/complete"), json={"completed": True}, headers=auth(u)),
    "patch status": lambda c, u, t: c.patch(url(u, t["id"]), json={"status": "completed"}, headers=auth(u)),
    "patch completed": lambda c, u, t: c.patch(url(u, t["id"]), json={"completed": True}, headers=auth(u)),
    "put": lambda c, u, t: c.put(
        url(u, t["id"]),
        json={"title": t["title"], "due_date": t["due_date"], "recurrence": t["recurrence"], "status": "completed"},
        headers=auth(u),
    ),
}


@pytest.mark.parametrize("route", ROUTES)
async def test_completing_moves_the_due_date_across_dst(client: Client, user: str, route: str) -> None:
    task = await recurring(client, user)
    done = ok(await ROUTES[route](client, user, task))
    assert done["due_date"] == "2030-04-01T07:00:00Z"  # still 09:00 in Berlin, now summer time
    assert at(done["due_date"]).astimezone(BERLIN).hour == 9
    assert (done["status"], done["completed"], done["completed_at"]) == ("pending", False, None)
    assert done["last_completed_at"] is not None
    assert at(done["last_completed_at"]) >= at(done["updated_at"]) - timedelta(seconds=1)
    assert done["version"] == task["version"] + 1
    again = ok(await ROUTES[route](client, user, done))
    assert again["due_date"] == "2030-04-08T07:00:00Z" and again["version"] == task["version"] + 2


async def test_a_monthly_task_on_the_31st_skips_short_months(client: Client, user: str) -> None:
    task = await recurring(client, user, "FREQ=MONTHLY;BYMONTHDAY=31", due_date="2030-01-31T16:00:00Z")
    dues = []
    for _ in range(3):
        task = ok(await ROUTES["toggle"](client, user, task))
        dues.append(task["due_date"])
    assert dues == ["2030-03-31T15:00:00Z", "2030-05-31T15:00:00Z", "2030-07-31T15:00:00Z"]  # 17:00 in Berlin


async def test_count_ends_with_a_real_completion(client: Client, user: str, db: asyncpg.Connection) -> None:
    task = await recurring(client, user, "FREQ=WEEKLY;BYDAY=MO;COUNT=2")
    first = ok(await ROUTES["toggle"](client, user, task))
    assert first["status"] == "pending" and await completions(db, user, task["id"]) == 1
    last = ok(await ROUTES["toggle"](client, user, first))
    assert (last["status"], last["completed"], last["due_date"]) == ("completed", True, first["due_date"])
    assert last["completed_at"] is not None and last["recurrence"] == first["recurrence"]
    assert last["last_completed_at"] == last["completed_at"]
    reopened = ok(await ROUTES["toggle"](client, user, last))
    assert (reopened["status"], reopened["completed_at"]) == ("pending", None)


async def test_a_new_due_date_restarts_the_count(client: Client, user: str, db: asyncpg.Connection) -> None:
    task = await recurring(client, user, "FREQ=WEEKLY;BYDAY=MO;COUNT=2")
    ok(await ROUTES["toggle"](client, user, task))
    moved = ok(await client.patch(url(user, task["id"]), json={"due_date": MONDAY}, headers=auth(user)))
    assert await completions(db, user, task["id"]) == 0
    assert ok(await ROUTES["toggle"](client, user, moved))["status"] == "pending"


async def test_a_new_rule_restarts_the_count(client: Client, user: str, db: asyncpg.Connection) -> None:
    task = await recurring(client, user, "FREQ=WEEKLY;BYDAY=MO;COUNT=2")
    ok(await ROUTES["toggle"](client, user, task))
    rule = {"rule": "FREQ=WEEKLY;BYDAY=MO;COUNT=3", "timezone": "Europe/Berlin"}
    ok(await client.patch(url(user, task["id"]), json={"recurrence": rule}, headers=auth(user)))
    assert await completions(db, user, task["id"]) == 0
    unchanged = ok(await client.patch(url(user, task["id"]), json={"recurrence": rule}, headers=auth(user)))
    assert await completions(db, user, task["id"]) == 0 and unchanged["version"] == 3


async def test_until_reached_completes_it(client: Client, user: str) -> None:
    task = await recurring(client, user, "FREQ=WEEKLY;BYDAY=MO;UNTIL=20300331")
    done = ok(await ROUTES["toggle"](client, user, task))
    assert (done["status"], done["due_date"]) == ("completed", MONDAY)


async def test_recurrence_null_stops_it(client: Client, user: str) -> None:
    task = await recurring(client, user)
    stopped = ok(await client.patch(url(user, task["id"]), json={"recurrence": None}, headers=auth(user)))
    done = ok(await ROUTES["toggle"](client, user, stopped))
    assert (done["status"], done["due_date"], done["last_completed_at"]) == ("completed", MONDAY, None)


async def test_an_overdue_task_moves_into_the_future(client: Client, user: str) -> None:
    task = await recurring(client, user, due_date="2020-01-06T08:00:00Z")  # a Monday, 09:00 in Berlin
    done = ok(await ROUTES["toggle"](client, user, task))
    due = at(done["due_date"])
    assert due > datetime.now(UTC) and due - datetime.now(UTC) <= timedelta(days=7)
    assert (due.astimezone(BERLIN).weekday(), due.astimezone(BERLIN).hour) == (0, 9)


async def test_from_completion_counts_from_the_day_it_was_done(client: Client, user: str) -> None:
    task = await recurring(client, user, "FREQ=DAILY;INTERVAL=3", recurrence={"from": "completion"})
    done = ok(await ROUTES["toggle"](client, user, task))
    completed_on = at(done["last_completed_at"]).astimezone(BERLIN).date()
    assert at(done["due_date"]).astimezone(BERLIN).replace(tzinfo=None) == datetime.combine(
        completed_on + timedelta(days=3), datetime.min.time().replace(hour=9)
    )


async def test_a_stale_if_match_changes_nothing(client: Client, user: str) -> None:
    task = await recurring(client, user)
    headers = {**auth(user), "If-Match": '"7"'}
    response = await client.patch(url(user, task["id"], "/complete"), headers=headers)
    assert response.status_code == 412 and response.headers["etag"] == '"1"'
    assert ok(await client.get(url(user, task["id"]), headers=auth(user))) == task


async def test_another_users_recurring_task_is_404(client: Client, user: str, other_user: str) -> None:
    task = await recurring(client, user)
    response = await client.patch(url(other_user, task["id"], "/complete"), headers=auth(other_user))
    assert response.status_code == 404


def test_openapi_shows_the_keys_as_sent(app: Litestar) -> None:
    schemas = app.openapi_schema.to_schema()["components"]["schemas"]
    shapes = [schema for name, schema in schemas.items() if "Recurrence" in name]
    assert len(shapes) == 4  # the response's, and the bodies of POST, PUT and PATCH
    assert all(set(schema["properties"]) == {"rule", "timezone", "from"} for schema in shapes)
    assert set(schemas["Task"]["properties"]) >= {"recurrence", "last_completed_at"}


async def test_a_subtask_under_a_recurring_parent_stays_as_it_is(client: Client, user: str) -> None:
    parent = await recurring(client, user)
    child = await create_task(client, user, parent_id=parent["id"])
    moved_on = ok(await ROUTES["toggle"](client, user, parent))
    assert moved_on["status"] == "pending"
    assert ok(await client.get(url(user, child["id"]), headers=auth(user))) == child


async def test_the_completion_that_ends_it_completes_the_subtasks(client: Client, user: str) -> None:
    parent = await recurring(client, user, "FREQ=WEEKLY;BYDAY=MO;COUNT=1")
    child = await create_task(client, user, parent_id=parent["id"])
    assert ok(await ROUTES["toggle"](client, user, parent))["status"] == "completed"
    assert ok(await client.get(url(user, child["id"]), headers=auth(user)))["status"] == "completed"
