"""Every list shape (its count of every match included) is an index plan, never a sequential scan of tasks.

The scratch database is seeded (bench/lib/plan_shapes.py, shared with bench/explain_plans.py) with
200,000 rows (10,000 for the target user, 100 each for 1,900 others), not the bench's 1,000,000, to keep
CI fast: at this size the planner already prefers a sequential scan wherever no index fits, so a missing
index still shows, in a few seconds. Each shape is checked as a generic plan and as a custom plan:
asyncpg's prepared statements switch to the generic plan after five executions, so both must use an index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest

from bench.lib.plan_shapes import FILTERS, MODES, PARENT, TARGET, explain, middle_key, seed, shapes
from service import migrate
from service.gateway import CHANGES, list_text
from service.list_sql import SORTS, given_of
from tests.helpers import create_scratch_database, drop_database, with_database

OFFSET = 1000  # next pages start this far into the target's tasks
POSITION_INDEX = re.compile(r"using tasks_user_(parent_)?position_idx on tasks|on tasks_user_parent_position_idx")
ORDERED_INDEX_SCAN = re.compile(r"Index (Only )?Scan (Backward )?using tasks_\w+ on tasks")


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[psycopg.Connection[Any]]:
    name = create_scratch_database(server_url, "explain")
    try:
        url = with_database(server_url, name)
        migrate.apply(url)
        with psycopg.connect(url, autocommit=True) as connection:
            seed(connection, total=200_000, target_rows=10_000, others=1_900)
            yield connection
    finally:
        drop_database(server_url, name)


def test_every_list_shape_uses_an_index(seeded: psycopg.Connection[Any]) -> None:
    checked, failures = 0, []
    for label, text, params in shapes(seeded, OFFSET, every_filter=True):
        for mode in MODES.values():
            plan = explain(seeded, mode, text, params)
            checked += 1
            if "Seq Scan on tasks" in plan:
                failures.append(f"--- {label} ({mode})\nparams: {params!r}\n{plan}")
    assert checked == 2 * len(FILTERS) * (2 * len(SORTS) + 2)  # +2: the null-key next pages of due_date
    assert not failures, f"{len(failures)} of {checked} plans scan tasks sequentially:\n" + "\n".join(failures)


def test_unfiltered_pages_read_their_sort_index_in_order(seeded: psycopg.Connection[Any]) -> None:
    """Stricter, for the custom plan of unfiltered pages: an index in the page's order, so no Sort node."""
    failures = []
    for label, text, params in shapes(seeded, OFFSET, every_filter=True):
        if label.startswith("tasks/list") and label.endswith("[no filter]"):
            plan = explain(seeded, "force_custom_plan", text, params)
            if not ORDERED_INDEX_SCAN.search(plan) or "Sort" in plan:
                failures.append(f"--- {label}\nparams: {params!r}\n{plan}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("sort", ["position", "-position"])
@pytest.mark.parametrize("filter_name", ["parent_id=<a parent>", "parent_id=none"])
def test_a_sibling_list_in_its_order_reads_a_position_index(
    seeded: psycopg.Connection[Any], sort: str, filter_name: str
) -> None:
    """parent_id=<uuid> and parent_id=none with sort=position read a position index, first and next pages alike:
    (user_id, parent_id, position, id), or for a long top-level list (user_id, position, id) in order, skipping
    subtasks. A short list may be read as a bitmap and sorted: the planner's call, never a scan of tasks."""
    filters = FILTERS[filter_name]
    given = given_of(filters)
    key, after_id = middle_key(seeded, sort, 10)
    pages = [(True, None, None), (False, key, after_id)]
    for mode in MODES.values():
        for first, after_key, after in pages:
            plan = explain(seeded, mode, list_text(sort, first, given), (TARGET, *filters, after_key, after, 101))
            assert POSITION_INDEX.search(plan) and "Seq Scan" not in plan, f"{mode}:\n{plan}"


def test_seed_has_the_intended_shape(seeded: psycopg.Connection[Any]) -> None:
    counts = seeded.execute(
        "SELECT count(*) FILTER (WHERE user_id = %s), count(DISTINCT user_id), count(*) FILTER (WHERE status = "
        "'deleted'), count(*) FILTER (WHERE due_date IS NULL) FROM tasks",
        [TARGET],
    ).fetchone()
    assert counts is not None
    target, users, deleted, undated = counts
    assert (target, users) == (10_000, 1_901)
    subtasks = seeded.execute(
        "SELECT count(*) FILTER (WHERE parent_id = %s), count(parent_id) FROM tasks WHERE user_id = %s",
        [PARENT, TARGET],
    ).fetchone()
    assert subtasks == (400, 4_000)
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
    for mode in MODES.values():
        plan = explain(seeded, mode, CHANGES.text, (TARGET, *after, 501))
        assert "Index Scan using tasks_user_change_idx on tasks" in plan, f"{label} ({mode}):\n{plan}"
        assert "Seq Scan on tasks" not in plan and "Sort" not in plan, f"{label} ({mode}):\n{plan}"
