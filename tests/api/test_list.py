"""GET /api/{user_id}/tasks: every filter, every sort, totals, keyset cursors and query validation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

Client = AsyncTestClient[Litestar]
Params = list[tuple[str, str]]
RANK = {"low": 0, "medium": 1, "high": 2}
SORTS = [f"{sign}{key}" for key in ("created_at", "updated_at", "due_date", "priority", "title") for sign in ("", "-")]


async def get_list(client: Client, user: str, params: Params | None = None, *, token_user: str | None = None) -> Any:
    query = urlencode(params or [])
    return await client.get(f"/api/{user}/tasks" + (f"?{query}" if query else ""), headers=auth(token_user or user))


async def page(client: Client, user: str, params: Params | None = None) -> dict[str, Any]:
    response = await get_list(client, user, params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "success"
    return body


async def listed(client: Client, user: str, params: Params | None = None) -> list[str]:
    """The ids of one page of up to 1000 tasks, in the order answered."""
    body = await page(client, user, [*(params or []), ("limit", "1000")])
    assert body["meta"]["next_cursor"] is None
    assert body["meta"]["total"] == len(body["data"])
    return [task["id"] for task in body["data"]]


async def walk(client: Client, user: str, params: Params, limits: list[int]) -> list[dict[str, Any]]:
    """Follow next_cursor to the end, page sizes taken from `limits` in turn (the last one repeats)."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for round_ in range(200):
        limit = limits[min(round_, len(limits) - 1)]
        body = await page(client, user, [*params, ("limit", str(limit))] + ([("cursor", cursor)] if cursor else []))
        assert len(body["data"]) <= limit
        assert body["meta"]["limit"] == limit
        seen.extend(body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return seen
        assert len(body["data"]) == limit, "a page before the last one must be full"
    raise AssertionError(f"the cursor walk did not end: {[t['title'] for t in seen[:30]]}")


def errors_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == "VALIDATION_ERROR"
    return [error["field"] for error in body["details"]["errors"]]


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def reference_order(tasks: list[dict[str, Any]], sort: str) -> list[str]:
    """The order the contract defines, computed in Python: key, then id, in the same direction."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")

    def value(task: dict[str, Any]) -> Any:
        if key == "priority":
            return RANK[task["priority"]]
        if key == "title":
            return task["title"].lower()
        return when(task[key])

    present = [t for t in tasks if value(t) is not None]
    absent = [t for t in tasks if value(t) is None]  # only due_date can be null: last in both directions
    present.sort(key=lambda t: (value(t), UUID(t["id"]).bytes), reverse=descending)
    absent.sort(key=lambda t: UUID(t["id"]).bytes, reverse=descending)
    return [t["id"] for t in present + absent]


# -- filters --------------------------------------------------------------------------------------


async def test_status_filter_single_and_comma_list_in_any_order(client: Client, user: str) -> None:
    pending = await create_task(client, user, status="pending")
    doing = await create_task(client, user, status="in_progress")
    done = await create_task(client, user, status="completed")

    assert await listed(client, user, [("status", "pending")]) == [pending["id"]]
    both = set(await listed(client, user, [("status", "in_progress,completed")]))
    assert both == {doing["id"], done["id"]}
    assert set(await listed(client, user, [("status", "completed,in_progress")])) == both
    assert len(await listed(client, user, [("status", "pending,in_progress,completed")])) == 3


async def test_priority_filter(client: Client, user: str) -> None:
    low = await create_task(client, user, priority="low")
    medium = await create_task(client, user)
    high = await create_task(client, user, priority="high")

    assert await listed(client, user, [("priority", "medium")]) == [medium["id"]]
    assert set(await listed(client, user, [("priority", "high,low")])) == {low["id"], high["id"]}


async def test_completed_filter_alone_and_with_status(client: Client, user: str) -> None:
    pending = await create_task(client, user, status="pending")
    doing = await create_task(client, user, status="in_progress")
    done = await create_task(client, user, status="completed")

    assert await listed(client, user, [("completed", "true")]) == [done["id"]]
    assert set(await listed(client, user, [("completed", "false")])) == {pending["id"], doing["id"]}
    both = [("completed", "false"), ("status", "pending,completed")]
    assert await listed(client, user, both) == [pending["id"]]
    assert await listed(client, user, [("completed", "true"), ("status", "completed,in_progress")]) == [done["id"]]
    assert await listed(client, user, [("completed", "true"), ("status", "pending")]) == []


async def test_tag_filter_needs_every_tag_case_insensitively(client: Client, user: str) -> None:
    both = await create_task(client, user, tags=["Work", "home"])
    work = await create_task(client, user, tags=["work"])
    await create_task(client, user, tags=["home"])
    await create_task(client, user, tags=[])

    assert set(await listed(client, user, [("tag", "work")])) == {both["id"], work["id"]}
    assert set(await listed(client, user, [("tag", "WORK")])) == {both["id"], work["id"]}
    assert await listed(client, user, [("tag", "work"), ("tag", "HOME")]) == [both["id"]]
    assert await listed(client, user, [("tag", "work"), ("tag", "missing")]) == []
    assert len(await listed(client, user, [("tag", "x" * 50)])) == 0  # 50 characters is a valid tag


async def test_q_is_case_insensitive_substring_of_title_or_description(client: Client, user: str) -> None:
    in_title = await create_task(client, user, title="Buy MILK today")
    in_description = await create_task(client, user, title="Farm", description="the cow gives Milk")
    await create_task(client, user, title="Bread", description="and butter")
    percent = await create_task(client, user, title="50% off")
    await create_task(client, user, title="500 items")

    expected = {in_title["id"], in_description["id"]}
    assert set(await listed(client, user, [("q", "milk")])) == expected
    assert set(await listed(client, user, [("q", "mIlK")])) == expected
    assert await listed(client, user, [("q", "gives m")]) == [in_description["id"]]
    assert await listed(client, user, [("q", "50%")]) == [percent["id"]]  # no LIKE wildcards
    assert await listed(client, user, [("q", "_")]) == []


async def test_due_bounds_after_inclusive_before_exclusive_and_no_due_date_excluded(client: Client, user: str) -> None:
    first = await create_task(client, user, due_date="2026-03-01T00:00:00Z")
    second = await create_task(client, user, due_date="2026-03-02T00:00:00Z")
    third = await create_task(client, user, due_date="2026-03-03T00:00:00Z")
    await create_task(client, user)

    after = [("due_after", "2026-03-02T00:00:00Z")]
    assert set(await listed(client, user, after)) == {second["id"], third["id"]}
    assert await listed(client, user, [("due_before", "2026-03-02T00:00:00Z")]) == [first["id"]]
    window = [("due_after", "2026-03-02T01:00:00+01:00"), ("due_before", "2026-03-03T00:00:00Z")]
    assert await listed(client, user, window) == [second["id"]]
    far = [("due_after", "2000-01-01T00:00:00Z")]
    assert set(await listed(client, user, far)) == {first["id"], second["id"], third["id"]}
    assert len(await listed(client, user, [("due_before", "2100-01-01T00:00:00Z")])) == 3


async def test_filters_combine(client: Client, user: str) -> None:
    match = await create_task(
        client,
        user,
        title="Report",
        status="in_progress",
        priority="high",
        tags=["work"],
        due_date="2026-03-05T00:00:00Z",
    )
    await create_task(client, user, title="Report", status="pending", priority="high", tags=["work"])
    await create_task(client, user, title="Report", status="in_progress", priority="low", tags=["work"])
    await create_task(client, user, title="Report", status="in_progress", priority="high", tags=["home"])
    await create_task(client, user, title="Other", status="in_progress", priority="high", tags=["work"])

    params = [("status", "in_progress,completed"), ("priority", "high"), ("tag", "Work"), ("q", "repo")]
    body = await page(client, user, [*params, ("due_after", "2026-03-01T00:00:00Z")])
    assert [t["id"] for t in body["data"]] == [match["id"]]
    assert body["meta"]["total"] == 1


# -- sorts ----------------------------------------------------------------------------------------


@pytest.fixture
async def sortable(client: Client, db: asyncpg.Connection, user: str) -> list[dict[str, Any]]:
    """Eight tasks with ties on every sort key (timestamps set directly, so they tie exactly)."""
    specs: list[dict[str, Any]] = [
        {"title": "apple", "priority": "low", "due_date": "2026-03-02T00:00:00Z"},
        {"title": "Apple", "priority": "high", "due_date": "2026-03-02T00:00:00Z"},
        {"title": "banana", "priority": "medium"},
        {"title": "APPLE", "priority": "high", "due_date": "2026-03-01T00:00:00Z"},
        {"title": "Cherry", "priority": "low"},
        {"title": "b", "priority": "medium", "due_date": "2026-03-03T00:00:00Z"},
        {"title": "Banana", "priority": "high"},
        {"title": "cherry", "priority": "low", "due_date": "2026-03-01T00:00:00Z"},
    ]
    tasks = [await create_task(client, user, **spec) for spec in specs]
    base = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    for index, task in enumerate(tasks):
        created = base + timedelta(hours=index % 3)  # three ties
        updated = base + timedelta(hours=(index * 5) % 4, microseconds=1)  # other ties
        await db.execute(
            "UPDATE tasks SET created_at = $3, updated_at = $4 WHERE user_id = $1 AND id = $2",
            user,
            UUID(task["id"]),
            created,
            updated,
        )
    body = await page(client, user, [("limit", "1000")])
    data: list[dict[str, Any]] = body["data"]
    assert len(data) == len(specs)
    return data


@pytest.mark.parametrize("sort", SORTS)
async def test_sort_order_and_cursor_walk(client: Client, user: str, sortable: list[dict[str, Any]], sort: str) -> None:
    expected = reference_order(sortable, sort)

    assert await listed(client, user, [("sort", sort)]) == expected
    walked = await walk(client, user, [("sort", sort)], [2])
    assert [t["id"] for t in walked] == expected
    assert [t["id"] for t in await walk(client, user, [("sort", sort)], [1])] == expected


@pytest.mark.parametrize("sort", ["due_date", "-due_date"])
async def test_tasks_without_due_date_come_last_both_ways(
    client: Client, user: str, sortable: list[dict[str, Any]], sort: str
) -> None:
    walked = await walk(client, user, [("sort", sort)], [3])
    dues = [t["due_date"] for t in walked]
    assert dues[-3:] == [None, None, None]
    assert None not in dues[:-3]
    present = [moment for moment in map(when, dues[:-3]) if moment is not None]
    assert present == sorted(present, reverse=sort.startswith("-"))


async def test_priority_sorts_by_rank_not_alphabet(client: Client, user: str, sortable: list[dict[str, Any]]) -> None:
    body = await page(client, user, [("sort", "priority")])
    ranks = [t["priority"] for t in body["data"]]
    assert ranks == ["low"] * 3 + ["medium"] * 2 + ["high"] * 3
    body = await page(client, user, [("sort", "-priority")])
    assert [t["priority"] for t in body["data"]] == ["high"] * 3 + ["medium"] * 2 + ["low"] * 3


async def test_title_sort_ignores_case(client: Client, user: str, sortable: list[dict[str, Any]]) -> None:
    body = await page(client, user, [("sort", "title")])
    assert [t["title"].lower() for t in body["data"]] == ["apple"] * 3 + ["b", "banana", "banana", "cherry", "cherry"]


async def test_default_sort_is_newest_first(client: Client, user: str) -> None:
    tasks = [await create_task(client, user, title=f"t{i}") for i in range(4)]
    newest_first = [t["id"] for t in reversed(tasks)]
    assert await listed(client, user) == newest_first
    assert await listed(client, user, [("sort", "-created_at")]) == newest_first


@pytest.mark.parametrize("sort", ["title", "-title"])
async def test_title_walk_with_non_ascii_titles_sees_each_task_once(client: Client, user: str, sort: str) -> None:
    """Python's str.lower() and PostgreSQL's lower() differ on some letters (İ, final Σ); paging must not."""
    titles = ["İstanbul", "istanbul", "ib", "it", "Ärger", "ärger", "Zebra", "ẞ", "ß", "ΣΑΣ", "σας", "É", "e"]
    created = {(await create_task(client, user, title=title))["id"] for title in titles}
    full = await listed(client, user, [("sort", sort)])
    assert set(full) == created
    walked = [t["id"] for t in await walk(client, user, [("sort", sort)], [1])]
    assert walked == full


# -- meta and pages -------------------------------------------------------------------------------


async def test_meta_total_counts_every_match_and_limit_echoes(client: Client, user: str) -> None:
    for index in range(5):
        await create_task(client, user, priority="high" if index % 2 else "low")

    body = await page(client, user, [("limit", "2")])
    assert len(body["data"]) == 2
    assert body["meta"]["total"] == 5
    assert body["meta"]["limit"] == 2
    assert isinstance(body["meta"]["next_cursor"], str)
    filtered = await page(client, user, [("priority", "low"), ("limit", "1")])
    assert filtered["meta"]["total"] == 3
    default = await page(client, user)
    assert default["meta"] == {"total": 5, "limit": 100, "next_cursor": None}


async def test_walk_with_filter_and_changing_limit_sees_every_match_once(client: Client, user: str) -> None:
    for index in range(11):
        await create_task(client, user, title=f"task {index}", tags=["even"] if index % 2 == 0 else ["odd"])
    expected = await listed(client, user, [("tag", "even")])
    assert len(expected) == 6

    assert [t["id"] for t in await walk(client, user, [("tag", "even")], [2])] == expected
    assert [t["id"] for t in await walk(client, user, [("tag", "even")], [2, 1, 3, 5])] == expected


async def test_deleted_tasks_are_never_listed_nor_counted(client: Client, user: str) -> None:
    keep = await create_task(client, user, title="keep")
    gone = await create_task(client, user, title="gone", tags=["x"])
    response = await client.delete(f"/api/{user}/tasks/{gone['id']}", headers=auth(user))
    assert response.status_code == 204

    body = await page(client, user)
    assert [t["id"] for t in body["data"]] == [keep["id"]]
    assert body["meta"]["total"] == 1
    for params in ([("q", "gone")], [("tag", "x")], [("status", "pending,in_progress,completed")]):
        body = await page(client, user, params)
        assert gone["id"] not in [t["id"] for t in body["data"]]
        assert body["meta"]["total"] == len(body["data"])


# -- cursors --------------------------------------------------------------------------------------


async def first_cursor(client: Client, user: str, params: Params) -> str:
    for index in range(3):
        await create_task(client, user, title=f"c{index}", status="pending")
    body = await page(client, user, [*params, ("limit", "1")])
    cursor: str = body["meta"]["next_cursor"]
    assert cursor
    return cursor


def flip_middle(text: str) -> str:
    middle = len(text) // 2
    return text[:middle] + ("B" if text[middle] == "A" else "A") + text[middle + 1 :]


@pytest.mark.parametrize("part", ["payload", "signature"])
async def test_tampered_cursor_is_rejected(client: Client, user: str, part: str) -> None:
    cursor = await first_cursor(client, user, [])
    payload, signature = cursor.split(".")
    tampered = f"{flip_middle(payload)}.{signature}" if part == "payload" else f"{payload}.{flip_middle(signature)}"
    assert tampered != cursor
    assert errors_of(await get_list(client, user, [("limit", "1"), ("cursor", tampered)])) == ["cursor"]


@pytest.mark.parametrize("garbage", ["garbage", "a.b", ".", "eyJ9.", "%%%", "x" * 2000])
async def test_garbage_cursor_is_rejected(client: Client, user: str, garbage: str) -> None:
    assert errors_of(await get_list(client, user, [("cursor", garbage)])) == ["cursor"]


async def test_another_users_cursor_is_rejected_on_your_own_path(client: Client, user: str, other_user: str) -> None:
    foreign = await first_cursor(client, other_user, [])
    await create_task(client, user)
    assert errors_of(await get_list(client, user, [("limit", "1"), ("cursor", foreign)])) == ["cursor"]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ([("status", "pending")], [("status", "pending,completed")]),
        ([("status", "pending")], []),
        ([], [("priority", "medium")]),
        ([], [("tag", "x")]),
        ([], [("q", "c")]),
        ([], [("due_after", "2000-01-01T00:00:00Z")]),
        ([("sort", "title")], [("sort", "-title")]),
        ([("sort", "title")], []),
        ([], [("sort", "created_at")]),
    ],
)
async def test_cursor_with_other_filters_or_sort_is_rejected(
    client: Client, user: str, first: Params, then: Params
) -> None:
    cursor = await first_cursor(client, user, first)
    assert errors_of(await get_list(client, user, [*then, ("limit", "1"), ("cursor", cursor)])) == ["cursor"]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ([("status", "pending,in_progress")], [("status", "in_progress,pending")]),
        ([], [("sort", "-created_at")]),
        ([("sort", "-created_at")], []),
        ([("tag", "a"), ("tag", "B")], [("tag", "b"), ("tag", "A")]),
    ],
)
async def test_cursor_survives_equivalent_query(client: Client, user: str, first: Params, then: Params) -> None:
    for index in range(3):
        await create_task(client, user, title=f"c{index}", tags=["a", "b"])
    expected = await listed(client, user, first)
    body = await page(client, user, [*first, ("limit", "1")])
    rest = await page(client, user, [*then, ("limit", "5"), ("cursor", body["meta"]["next_cursor"])])
    assert [t["id"] for t in body["data"] + rest["data"]] == expected


# -- query validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("foo=1", "foo"),
        ("limit=1&limit=2", "limit"),
        ("sort=title&sort=-title", "sort"),
        ("status=pending&status=completed", "status"),
        ("q=a&q=b", "q"),
        ("status=done", "status"),
        ("status=pending,", "status"),
        ("status=", "status"),
        ("status=deleted", "status"),
        ("status=PENDING", "status"),
        ("priority=urgent", "priority"),
        ("priority=", "priority"),
        ("completed=yes", "completed"),
        ("completed=", "completed"),
        ("tag=", "tag"),
        ("tag=a&tag=", "tag"),
        ("tag=" + "x" * 51, "tag"),
        ("due_after=tomorrow", "due_after"),
        ("due_after=2026-03-01T00:00:00", "due_after"),
        ("due_before=2026-02-30T00:00:00Z", "due_before"),
        ("sort=name", "sort"),
        ("sort=", "sort"),
        ("sort=%2Btitle", "sort"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=", "limit"),
        ("q=", "q"),
        ("q=" + "a" * 201, "q"),
        ("cursor=", "cursor"),
    ],
)
async def test_bad_query_parameter_is_named(client: Client, user: str, query: str, field: str) -> None:
    response = await client.get(f"/api/{user}/tasks?{query}", headers=auth(user))
    assert errors_of(response) == [field]


@pytest.mark.parametrize("query", ["limit=1", "limit=1000", "q=" + "a" * 200, "tag=" + "x" * 50, "completed=false"])
async def test_boundary_values_are_accepted(client: Client, user: str, query: str) -> None:
    response = await client.get(f"/api/{user}/tasks?{query}", headers=auth(user))
    assert response.status_code == 200, response.text


async def test_every_bad_parameter_is_listed(client: Client, user: str) -> None:
    query = "foo=1&status=done&priority=urgent&completed=yes&limit=0&sort=name&due_after=x&tag=&q=&sort=title"
    response = await client.get(f"/api/{user}/tasks?{query}", headers=auth(user))
    fields = errors_of(response)
    assert set(fields) == {"foo", "status", "priority", "completed", "limit", "sort", "due_after", "tag", "q"}
