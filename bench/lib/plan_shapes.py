"""The seed and the statement shapes whose plans tests/sql/test_explain.py checks and bench/explain_plans.py shows.

One user (the target) owns `target_rows` tasks among `total` rows spread over `others` other users:
enough rows that the planner prefers a sequential scan wherever no index fits, so a missing index shows.
Four in ten of the target's tasks are subtasks, spread over one parent per thousand tasks (PARENT is the
first); ids are derived from the row number, so PARENT is known before the seed runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from service.gateway import list_text
from service.list_sql import DEFAULT_SORT, SORTS, given_of

TARGET = "explain_target"
PARENT = UUID("c4ca4238-a0b9-2382-0dcc-509a6f75849b")  # md5('1'): the target's first task
SEED = """
INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, tags,
                   completed_at, created_at, updated_at, deleted_at, change_seq, position)
SELECT CASE WHEN g <= %(target_rows)s THEN %(target)s ELSE 'explain_other_' || (g %% %(others)s) END,
       md5(g::text)::uuid,
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
       g,
       'a' || md5((g * 3)::text)
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (
    SELECT (ARRAY['pending', 'pending', 'in_progress', 'completed', 'deleted'])[1 + (g / 7) %% 5] AS status,
           timestamptz '2025-01-01' + ((g::bigint * 7919) %% %(total)s) * interval '1 minute' AS created
) AS s
"""
SUBTASKS = """
UPDATE tasks
SET parent_id = md5(((g - 1) / 1000 * 1000 + 1)::text)::uuid
FROM generate_series(1, %(target_rows)s) AS g
WHERE user_id = %(target)s AND id = md5(g::text)::uuid AND g %% 10 >= 6
"""
# The value each sort orders by, to pick a next-page key from the middle of the target's tasks.
KEY_EXPRESSIONS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "due_date": "due_date",
    "priority": "priority_rank",
    "title": "lower(title)",
    "position": "position",
}
NO_FILTER: tuple[Any, ...] = (None,) * 8  # $2 statuses .. $9 top_level
FILTERS: dict[str, tuple[Any, ...]] = {
    "no filter": NO_FILTER,
    "status=in_progress,pending": (["in_progress", "pending"], None, None, None, None, None, None, None),
    "tag=urgent": (None, None, ["urgent"], None, None, None, None, None),
    "q=42": (None, None, None, "42", None, None, None, None),
    "parent_id=<a parent>": (None, None, None, None, None, None, PARENT, None),
    "parent_id=none": (None, None, None, None, None, None, None, True),
}
MODES = {"custom plan": "force_custom_plan", "generic plan": "force_generic_plan"}


def seed(connection: psycopg.Connection[Any], *, total: int, target_rows: int, others: int) -> None:
    connection.execute("SET synchronous_commit = off")
    connection.execute(SEED, {"target": TARGET, "target_rows": target_rows, "others": others, "total": total})
    connection.execute(SUBTASKS, {"target": TARGET, "target_rows": target_rows})
    connection.execute("ANALYZE tasks")


def middle_key(
    connection: psycopg.Connection[Any], sort: str, offset: int, *, null_due: bool = False
) -> tuple[Any, UUID]:
    """The sort key and id of the target's live task at `offset` in this order (one without a due date)."""
    where = " AND due_date IS NULL" if null_due else ""
    query = (
        f"SELECT {KEY_EXPRESSIONS[SORTS[sort].key]}, id FROM tasks "  # noqa: S608 - fixed fragments only
        f"WHERE user_id = %s AND status <> 'deleted'{where} ORDER BY {SORTS[sort].order} OFFSET {offset} LIMIT 1"
    )
    row = connection.execute(query, [TARGET]).fetchone()
    assert row is not None
    assert (row[0] is None) == null_due
    return row[0], row[1]


def shapes(
    connection: psycopg.Connection[Any], offset: int, *, every_filter: bool
) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(label, statement text, parameters): every sort's first and next page (its total included), without filters;
    with `every_filter`, every one of those under each filter, and the next pages that start after a task
    without a due date; else each filter on the default first page."""
    for filter_name, filters in FILTERS.items():
        given = given_of(filters)
        for sort in SORTS if every_filter or not given else [DEFAULT_SORT]:
            for next_page in (False, True) if every_filter or not given else (False,):
                afters: list[tuple[Any, UUID | None]] = [(None, None)]
                if next_page:
                    afters = [middle_key(connection, sort, offset)]
                    if every_filter and SORTS[sort].key == "due_date":
                        afters.append(middle_key(connection, sort, offset, null_due=True))
                for after_key, after_id in afters:
                    page = f"next page after={after_key!r}" if next_page else "first page"
                    label = f"tasks/list sort={sort} {page} [{filter_name}]"
                    yield label, list_text(sort, not next_page, given), (TARGET, *filters, after_key, after_id, 101)


def explain(
    connection: psycopg.Connection[Any], mode: str, text: str, params: tuple[Any, ...], *, analyze: bool = False
) -> str:
    """The plan of `text` as a prepared statement under plan_cache_mode `mode`."""
    connection.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.Literal(mode)))
    connection.execute(sql.SQL("PREPARE shape AS {}").format(sql.SQL(text)))
    try:
        arguments = sql.SQL(", ").join(sql.Literal(value) for value in params)
        options = sql.SQL("ANALYZE, BUFFERS, FORMAT TEXT" if analyze else "FORMAT TEXT")
        rows = connection.execute(sql.SQL("EXPLAIN ({}) EXECUTE shape ({})").format(options, arguments)).fetchall()
    finally:
        connection.execute("DEALLOCATE shape")
    return "\n".join(row[0] for row in rows)
