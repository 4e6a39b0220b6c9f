"""Every list and count shape is an index plan, never a sequential scan of tasks.

The scratch database is seeded with 200,000 rows (10,000 for the target user, 100 each for 1,900
others), not the 1,000,000 of bench/explain_plans.py, to keep CI fast: at this size the planner already
prefers a sequential scan wherever no index fits, so a missing index still shows, in a few seconds.
Each shape is checked as a generic plan and as a custom plan: asyncpg's prepared statements switch to
the generic plan after five executions, so both must use an index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from service import migrate
from service.gateway import CHANGES, count_text, list_text
from service.list_sql import SORTS, given_of
from tests.conftest import create_scratch_database, drop_database, with_database

TARGET = "explain_target"
SEED = """
INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, tags,
                   completed_at, created_at, updated_at, deleted_at, change_seq)
SELECT CASE WHEN g <= 10000 THEN %(target)s ELSE 'explain_other_' || (g %% 1900) END,
       gen_random_uuid(),
       'Task ' || g || ' ' || substr(md5(g::text), 1, 8),
       CASE WHEN g %% 3 = 0 THEN NULL ELSE 'Notes ' || md5((g * 7)::text) END,
       s.status,
       (ARRAY['low', 'medium', 'high'])[1 + g %% 3],
       CASE WHEN g %% 4 = 0 THEN NULL ELSE timestamptz '2026-01-01' + ((g * 37) %% 365) * interval '1 day' END,
       ((ARRAY['{}', '{work}', '{home,work}', '{urgent}', '{q1,home}'])[1 + (g / 3) %% 5])::text[],
       CASE WHEN s.status = 'completed' THEN s.created + interval '1 day' END,
       s.created,
       s.created + (g %% 500) * interval '1 minute',
       CASE WHEN s.status = 'deleted' THEN s.created + interval '2 days' END,
       g
FROM generate_series(1, 200000) AS g
CROSS JOIN LATERAL (
    SELECT (ARRAY['pending', 'pending', 'in_progress', 'completed', 'deleted'])[1 + (g / 7) %% 5] AS status,
           timestamptz '2025-01-01' + ((g::bigint * 7919) %% 200000) * interval '1 minute' AS created
) AS s
"""
# The value each sort orders by, to pick a next-page key from the middle of the target's tasks.
KEY_EXPRESSIONS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "due_date": "due_date",
    "priority": "priority_rank",
    "title": "lower(title)",
}
FILTERS: dict[str, tuple[Any, ...]] = {
    # $2 statuses, $3 priorities, $4 tags, $5 q, $6 due_after, $7 due_before
    "no filter": (None, None, None, None, None, None),
    "status": (["in_progress", "pending"], None, None, None, None, None),
    "tag": (None, None, ["urgent"], None, None, None),
    "q": (None, None, None, "42", None, None),
}
MODES = ("force_generic_plan", "force_custom_plan")
ORDERED_INDEX_SCAN = re.compile(r"Index (Only )?Scan (Backward )?using tasks_\w+ on tasks")


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[psycopg.Connection[Any]]:
    name = create_scratch_database(server_url, "explain")
    try:
        url = with_database(server_url, name)
        migrate.apply(url)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("SET synchronous_commit = off")
            connection.execute(SEED, {"target": TARGET})
            connection.execute(
                "INSERT INTO task_sync (user_id, change_seq)"
                " SELECT user_id, max(change_seq) FROM tasks GROUP BY user_id"
            )
            connection.execute("ANALYZE tasks")
            yield connection
    finally:
        drop_database(server_url, name)


def middle_key(connection: psycopg.Connection[Any], sort: str, *, null_due: bool = False) -> tuple[Any, UUID]:
    """The sort key and id of a task halfway through the target's live tasks in this order."""
    key = SORTS[sort].key
    where = " AND due_date IS NULL" if null_due else ""
    query = (
        f"SELECT {KEY_EXPRESSIONS[key]}, id FROM tasks WHERE user_id = %s AND status <> 'deleted'{where} "
        f"ORDER BY {SORTS[sort].order} OFFSET 1000 LIMIT 1"
    )
    row = connection.execute(query, [TARGET]).fetchone()
    assert row is not None
    assert (row[0] is None) == null_due
    return row[0], row[1]


def shapes(connection: psycopg.Connection[Any]) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(label, statement text, parameters) for every list shape and the count, under every filter."""
    for filter_name, filters in FILTERS.items():
        given = given_of(filters)
        for sort, next_page in ((sort, next_page) for sort in SORTS for next_page in (False, True)):
            text = list_text(sort, not next_page, given)
            afters: list[tuple[Any, UUID | None]] = [(None, None)]
            if next_page:
                afters = [middle_key(connection, sort)]
                if SORTS[sort].key == "due_date":
                    afters.append(middle_key(connection, sort, null_due=True))
            for after_key, after_id in afters:
                label = f"tasks/list sort={sort} {'next page' if next_page else 'first page'} after={after_key!r}"
                yield f"{label} [{filter_name}]", text, (TARGET, *filters, after_key, after_id, 101)
        yield f"tasks/count [{filter_name}]", count_text(given), (TARGET, *filters)


def explain(connection: psycopg.Connection[Any], mode: str, text: str, params: tuple[Any, ...]) -> str:
    connection.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.Literal(mode)))
    connection.execute(sql.SQL("PREPARE shape AS {}").format(sql.SQL(text)))
    try:
        arguments = sql.SQL(", ").join(sql.Literal(value) for value in params)
        rows = connection.execute(sql.SQL("EXPLAIN (FORMAT TEXT) EXECUTE shape ({})").format(arguments)).fetchall()
    finally:
        connection.execute("DEALLOCATE shape")
    return "\n".join(row[0] for row in rows)


def test_every_list_and_count_shape_uses_an_index(seeded: psycopg.Connection[Any]) -> None:
    checked, failures = 0, []
    for label, text, params in shapes(seeded):
        for mode in MODES:
            plan = explain(seeded, mode, text, params)
            checked += 1
            if "Seq Scan on tasks" in plan:
                failures.append(f"--- {label} ({mode})\nparams: {params!r}\n{plan}")
    assert checked == 2 * len(FILTERS) * (2 * len(SORTS) + 2 + 1)  # +2: the null-key next pages of due_date
    assert not failures, f"{len(failures)} of {checked} plans scan tasks sequentially:\n" + "\n".join(failures)


def test_unfiltered_pages_read_their_sort_index_in_order(seeded: psycopg.Connection[Any]) -> None:
    """Stricter, for the custom plan of unfiltered pages: an index in the page's order, so no Sort node."""
    failures = []
    for label, text, params in shapes(seeded):
        if label.startswith("tasks/list") and label.endswith("[no filter]"):
            plan = explain(seeded, "force_custom_plan", text, params)
            if not ORDERED_INDEX_SCAN.search(plan) or "Sort" in plan:
                failures.append(f"--- {label}\nparams: {params!r}\n{plan}")
    assert not failures, "\n".join(failures)


def test_seed_has_the_intended_shape(seeded: psycopg.Connection[Any]) -> None:
    counts = seeded.execute(
        "SELECT count(*) FILTER (WHERE user_id = %s), count(DISTINCT user_id), count(*) FILTER (WHERE status = "
        "'deleted'), count(*) FILTER (WHERE due_date IS NULL) FROM tasks",
        [TARGET],
    ).fetchone()
    assert counts is not None
    target, users, deleted, undated = counts
    assert (target, users) == (10_000, 1_901)
    assert 0 < deleted < 200_000 and 0 < undated < 200_000


@pytest.mark.parametrize(
    ("label", "after"),
    [
        ("full sync, first page", (0, None, None)),
        ("incremental, mid-walk", (100_000, UUID(int=0), -1)),
        ("full sync, later page", (5_000, UUID(int=2**128 - 1), 150_000)),
    ],
)
def test_the_change_feed_seeks_its_index(seeded: psycopg.Connection[Any], label: str, after: tuple[Any, ...]) -> None:
    """A feed page reads (user_id, change_seq, id) in order from its position: no scan, no sort."""
    for mode in MODES:
        plan = explain(seeded, mode, CHANGES.text, (TARGET, *after, 501))
        assert "Index Scan using tasks_user_change_idx on tasks" in plan, f"{label} ({mode}):\n{plan}"
        assert "Seq Scan on tasks" not in plan and "Sort" not in plan, f"{label} ({mode}):\n{plan}"
