"""0006_change_feed on a database that already holds tasks: every task is numbered, tombstones too, per user."""

from __future__ import annotations

import psycopg
import pytest
from yoyo import get_backend, read_migrations

from service import migrate
from tests.helpers import create_scratch_database, drop_database, with_database


def apply_until(url: str, last: str) -> None:
    """The migrations up to `last` (by id prefix, inclusive), as a database of that time had them."""
    backend = get_backend(migrate.yoyo_url(url))
    try:
        earlier = read_migrations(str(migrate.MIGRATIONS)).filter(lambda m: m.id[:4] <= last)
        with backend.lock():
            backend.apply_migrations(backend.to_apply(earlier))
    finally:
        backend.connection.close()


def test_existing_tasks_are_numbered_in_change_order_and_the_counter_follows(server_url: str) -> None:
    try:
        name = create_scratch_database(server_url, "feedmig")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test server does not allow CREATE DATABASE")
    url = with_database(server_url, name)
    try:
        apply_until(url, "0005")
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(
                "INSERT INTO tasks (user_id, title, updated_at) VALUES"
                " ('a', 'second', '2026-01-02Z'), ('a', 'first', '2026-01-01Z'), ('b', 'only', '2026-01-03Z')"
            )
            db.execute(
                "INSERT INTO tasks (user_id, title, status, deleted_at, updated_at)"
                " VALUES ('a', 'gone', 'deleted', '2026-01-04Z', '2026-01-04Z')"
            )
        apply_until(url, "0006")  # later migrations stamp tasks again (0008 puts live ones back in the feed)
        with psycopg.connect(url) as db:
            stamped = db.execute("SELECT user_id, title, change_seq FROM tasks ORDER BY user_id, change_seq").fetchall()
            counters = db.execute("SELECT user_id, change_seq, horizon FROM task_sync ORDER BY user_id").fetchall()
        assert stamped == [("a", "first", 1), ("a", "second", 2), ("a", "gone", 3), ("b", "only", 1)]
        assert counters == [("a", 3, 0), ("b", 1, 0)]
    finally:
        drop_database(server_url, name)
