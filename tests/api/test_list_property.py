"""Property: walking the cursor of GET /tasks yields exactly a plain Python filter-and-sort of the same tasks.

Titles come from a small ASCII alphabet with upper case, so case-insensitive sorting and ties are common;
due dates and timestamps come from small pools, so the id tie-break is exercised on every sort.
PostgreSQL orders uuids by their bytes, which for the lower-case hex form is plain string order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import auth, create_task

RANK = {"low": 0, "medium": 1, "high": 2}
STATUSES = ["pending", "in_progress", "completed"]
PRIORITIES = ["low", "medium", "high"]
TAGS = ["x", "y", "Z"]
DUES = ["2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-02T12:30:00.000001Z"]
BOUNDS = ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-02T12:30:00.000001Z"]
SORT_KEYS = ["created_at", "updated_at", "due_date", "priority", "title"]
BASE = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


@dataclass(frozen=True)
class Query:
    statuses: list[str] | None
    priorities: list[str] | None
    completed: bool | None
    tags: list[str]
    q: str | None
    due_after: str | None
    due_before: str | None
    sort: str | None
    limit: int

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if self.statuses is not None:
            params.append(("status", ",".join(self.statuses)))
        if self.priorities is not None:
            params.append(("priority", ",".join(self.priorities)))
        if self.completed is not None:
            params.append(("completed", "true" if self.completed else "false"))
        params.extend(("tag", tag) for tag in self.tags)
        for name in ("q", "due_after", "due_before", "sort"):
            if (value := getattr(self, name)) is not None:
                params.append((name, value))
        return params


tasks_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.text(alphabet="aAbB", min_size=1, max_size=3),
            "description": st.none() | st.text(alphabet="abB", min_size=1, max_size=3),
            "status": st.sampled_from(STATUSES),
            "priority": st.sampled_from(PRIORITIES),
            "tags": st.lists(st.sampled_from(TAGS), max_size=3),
            "due_date": st.none() | st.sampled_from(DUES),
        }
    ),
    min_size=2,
    max_size=10,
)
# created_at / updated_at offsets in minutes, from a small pool so that they tie.
stamps_strategy = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=10, max_size=10)


def rarely(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """None three times in four: with every filter drawn at once, most queries must still match something."""
    return st.integers(0, 3).flatmap(lambda n: strategy if n == 3 else st.none())


def subset(pool: list[str]) -> st.SearchStrategy[list[str] | None]:
    return rarely(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True))


ALL_SORTS = [sign + key for key in SORT_KEYS for sign in ("", "-")]
query_strategy = st.builds(
    Query,
    statuses=subset(STATUSES),
    priorities=subset(PRIORITIES),
    completed=rarely(st.booleans()),
    tags=rarely(st.lists(st.sampled_from(["x", "X", "y", "z"]), min_size=1, max_size=2)).map(lambda t: t or []),
    q=rarely(st.sampled_from(["a", "B", "ab", "bB", "aaa"])),
    due_after=rarely(st.sampled_from(BOUNDS)),
    due_before=rarely(st.sampled_from(BOUNDS)),
    sort=st.none() | st.sampled_from(ALL_SORTS),
    limit=st.integers(1, 4),
)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def matches(task: dict[str, Any], query: Query) -> bool:
    due = None if task["due_date"] is None else when(task["due_date"])
    searched = [task["title"].lower(), (task["description"] or "").lower()]
    return (
        (query.statuses is None or task["status"] in query.statuses)
        and (query.priorities is None or task["priority"] in query.priorities)
        and (query.completed is None or (task["status"] == "completed") == query.completed)
        and all(tag.lower() in task["tags"] for tag in query.tags)
        and (query.q is None or any(query.q.lower() in text for text in searched))
        and (query.due_after is None or (due is not None and due >= when(query.due_after)))
        and (query.due_before is None or (due is not None and due < when(query.due_before)))
    )


def expected_ids(tasks: list[dict[str, Any]], query: Query) -> list[str]:
    sort = query.sort or "-created_at"
    descending, key = sort.startswith("-"), sort.lstrip("-")

    def value(task: dict[str, Any]) -> Any:
        if key == "priority":
            return RANK[task["priority"]]
        if key == "title":
            return task["title"].lower()
        return None if task[key] is None else when(task[key])

    chosen = [task for task in tasks if matches(task, query)]
    present = sorted((t for t in chosen if value(t) is not None), key=lambda t: (value(t), t["id"]), reverse=descending)
    absent = sorted((t for t in chosen if value(t) is None), key=lambda t: t["id"], reverse=descending)
    return [task["id"] for task in present + absent]


async def walk(client: AsyncTestClient[Litestar], user: str, query: Query, most: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(most + 2):
        params = [*query.params(), ("limit", str(query.limit))] + ([("cursor", cursor)] if cursor else [])
        response = await client.get(f"/api/{user}/tasks?{urlencode(params)}", headers=auth(user))
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(task["id"] for task in body["data"])
        assert body["meta"]["limit"] == query.limit
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError(f"the cursor walk did not end after {most + 2} pages: {seen}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=tasks_strategy,
    stamps=stamps_strategy,
    sort=st.sampled_from(ALL_SORTS),
    queries=st.lists(query_strategy, min_size=1, max_size=3),
)
async def test_cursor_walk_equals_python_filter_and_sort(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    specs: list[dict[str, Any]],
    stamps: list[tuple[int, int]],
    sort: str,
    queries: list[Query],
) -> None:
    user = f"prop_{uuid.uuid4().hex[:12]}"
    tasks = [await create_task(client, user, **spec) for spec in specs]
    for task, (created, updated) in zip(tasks, stamps, strict=False):
        created_at, updated_at = BASE + timedelta(minutes=created), BASE + timedelta(minutes=updated, microseconds=7)
        await db.execute(
            "UPDATE tasks SET created_at = $3, updated_at = $4 WHERE user_id = $1 AND id = $2",
            user,
            uuid.UUID(task["id"]),
            created_at,
            updated_at,
        )
        task["created_at"], task["updated_at"] = created_at.isoformat(), updated_at.isoformat()

    unfiltered = Query(None, None, None, [], None, None, None, sort, 1 + len(tasks) // 3)
    for query in [unfiltered, *queries]:
        expected = expected_ids(tasks, query)
        walked = await walk(client, user, query, len(tasks))
        assert walked == expected, query
        response = await client.get(f"/api/{user}/tasks?{urlencode(query.params())}", headers=auth(user))
        assert response.json()["meta"]["total"] == len(expected), query
