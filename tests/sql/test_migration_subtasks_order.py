"""0008_subtasks_order on a database that already holds tasks: positions in created order, back in the feed."""

from __future__ import annotations

import psycopg
import pytest

from service import migrate, positions
from tests.helpers import create_scratch_database, drop_database, with_database
from tests.sql.test_migration_change_feed import apply_until

MANY = 4000  # past the 62 one-digit and 3,844 two-digit keys: the backfill writes keys of three widths


def test_existing_tasks_get_the_keys_of_a_fresh_list_in_created_order_and_reach_the_feed(server_url: str) -> None:
    try:
        name = create_scratch_database(server_url, "ordermig")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test server does not allow CREATE DATABASE")
    url = with_database(server_url, name)
    try:
        apply_until(url, "0006")
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(
                "INSERT INTO tasks (user_id, title, created_at, change_seq)"
                " SELECT 'many', 'task ' || n, '2026-01-01Z'::timestamptz - n * interval '1 second', n"
                " FROM generate_series(1, %s) AS n",
                (MANY,),
            )
            db.execute(
                "INSERT INTO tasks (user_id, title, status, deleted_at, created_at, change_seq) VALUES"
                " ('few', 'second', 'pending', NULL, '2026-01-02Z', 1),"
                " ('few', 'gone', 'deleted', '2026-01-05Z', '2026-01-03Z', 2),"
                " ('few', 'first', 'pending', NULL, '2026-01-01Z', 3)"
            )
            db.execute("INSERT INTO task_sync (user_id, change_seq) VALUES ('many', %s), ('few', 3)", (MANY,))
        migrate.apply(url)
        with psycopg.connect(url) as db:
            many = db.execute("SELECT position FROM tasks WHERE user_id = 'many' ORDER BY created_at, id").fetchall()
            few = db.execute(
                "SELECT title, position, parent_id, change_seq FROM tasks WHERE user_id = 'few' ORDER BY created_at"
            ).fetchall()
            counters: dict[str, int] = dict(db.execute("SELECT user_id, change_seq FROM task_sync").fetchall())
            by_index = db.execute("SELECT title FROM tasks WHERE user_id = 'many' ORDER BY position LIMIT 3").fetchall()
        assert [row[0] for row in many] == positions.spread(MANY)
        assert [row[0] for row in by_index] == [f"task {MANY}", f"task {MANY - 1}", f"task {MANY - 2}"]
        # The live tasks are stamped again past the counter (an incremental sync sends them with their new
        # fields); the tombstone keeps its number.
        assert few == [("first", "a0", None, 5), ("second", "a1", None, 4), ("gone", "a2", None, 2)]
        assert counters == {"few": 5, "many": 2 * MANY}
    finally:
        drop_database(server_url, name)
