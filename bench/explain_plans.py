"""EXPLAIN (ANALYZE, BUFFERS) of every list shape and the count over 1,000,000 seeded tasks.

    python bench/explain_plans.py [DATABASE_URL]

Without a URL it starts the embedded PostgreSQL in .data/bench-postgres (and stops it again if it
started it). Either way it works in a scratch database that it drops at the end. Each shape is shown
with the custom plan and with the generic plan (the one asyncpg's prepared statements may switch to
after five executions). Exit code 1 when any plan reads tasks with a Seq Scan.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from service import devdb, migrate  # noqa: E402
from service.gateway import count_text, list_text  # noqa: E402
from service.listing import (  # noqa: E402
    DEFAULT_SORT,
    SORTS,
    given_of,
)

TOTAL = 1_000_000
TARGET_ROWS = 10_000
OTHER_USERS = 9_900  # about 100 tasks each
TARGET = "bench_target"
DATA_DIR = ROOT / ".data" / "bench-postgres"
SEED = """
INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, tags,
                   completed_at, created_at, updated_at, deleted_at)
SELECT CASE WHEN g <= %(target_rows)s THEN %(target)s ELSE 'bench_user_' || (g %% %(others)s) END,
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
       CASE WHEN s.status = 'deleted' THEN s.created + interval '2 days' END
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (
    SELECT (ARRAY['pending', 'pending', 'in_progress', 'completed', 'deleted'])[1 + (g / 7) %% 5] AS status,
           timestamptz '2025-01-01' + ((g::bigint * 7919) %% %(total)s) * interval '1 minute' AS created
) AS s
"""
KEY_EXPRESSIONS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "due_date": "due_date",
    "priority": "priority_rank",
    "title": "lower(title)",
}
NO_FILTER: tuple[Any, ...] = (None, None, None, None, None, None)  # $2 statuses .. $7 due_before
FILTERS: dict[str, tuple[Any, ...]] = {
    "status=in_progress,pending": (["in_progress", "pending"], None, None, None, None, None),
    "tag=urgent": (None, None, ["urgent"], None, None, None),
    "q=42": (None, None, None, "42", None, None),
}
MODES = {"custom plan": "force_custom_plan", "generic plan": "force_generic_plan"}


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def middle_key(connection: psycopg.Connection[Any], sort: str) -> tuple[Any, uuid.UUID]:
    query = (
        f"SELECT {KEY_EXPRESSIONS[SORTS[sort].key]}, id FROM tasks "  # noqa: S608 - fixed fragments only
        f"WHERE user_id = %s AND status <> 'deleted' ORDER BY {SORTS[sort].order} OFFSET {TARGET_ROWS // 4} LIMIT 1"
    )
    row = connection.execute(query, [TARGET]).fetchone()
    assert row is not None
    return row[0], row[1]


def shapes(connection: psycopg.Connection[Any]) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    for sort, next_page in ((sort, next_page) for sort in SORTS for next_page in (False, True)):
        text = list_text(sort, not next_page, frozenset())
        after = middle_key(connection, sort) if next_page else (None, None)
        default = " (default)" if sort == DEFAULT_SORT else ""
        label = f"list sort={sort}{default} {'next page' if next_page else 'first page'}"
        yield label, text, (TARGET, *NO_FILTER, *after, 101)
    for name, filters in FILTERS.items():
        params = (TARGET, *filters, None, None, 101)
        yield f"list sort={DEFAULT_SORT} first page {name}", list_text(DEFAULT_SORT, True, given_of(filters)), params
    yield "count", count_text(frozenset()), (TARGET, *NO_FILTER)
    for name, filters in FILTERS.items():
        yield f"count {name}", count_text(given_of(filters)), (TARGET, *filters)


def explain(connection: psycopg.Connection[Any], mode: str, text: str, params: tuple[Any, ...]) -> str:
    connection.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.Literal(mode)))
    connection.execute(sql.SQL("PREPARE shape AS {}").format(sql.SQL(text)))
    try:
        arguments = sql.SQL(", ").join(sql.Literal(value) for value in params)
        query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) EXECUTE shape ({})").format(arguments)
        rows = connection.execute(query).fetchall()
    finally:
        connection.execute("DEALLOCATE shape")
    return "\n".join(row[0] for row in rows)


def run(server_url: str) -> int:
    name = f"bench_explain_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = with_database(server_url, name)
        migrate.apply(url)
        with psycopg.connect(url, autocommit=True) as connection:
            started = time.monotonic()
            connection.execute("SET synchronous_commit = off")
            connection.execute(
                SEED, {"target": TARGET, "target_rows": TARGET_ROWS, "others": OTHER_USERS, "total": TOTAL}
            )
            connection.execute("ANALYZE tasks")
            print(f"seeded {TOTAL:,} tasks ({TARGET_ROWS:,} for {TARGET}) in {time.monotonic() - started:.1f} s")
            seq_scans = []
            for label, text, params in shapes(connection):
                for mode_name, mode in MODES.items():
                    plan = explain(connection, mode, text, params)
                    print(f"\n=== {label} [{mode_name}]")
                    print(plan)
                    if "Seq Scan on tasks" in plan:
                        seq_scans.append(f"{label} [{mode_name}]")
        if seq_scans:
            print(f"\nSeq Scan on tasks in {len(seq_scans)} plan(s): " + "; ".join(seq_scans))
            return 1
        print("\nNo plan contains a Seq Scan on tasks.")
        return 0
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        return run(argv[1])
    was_running = devdb.is_running(DATA_DIR)
    server_url = devdb.start(DATA_DIR)
    try:
        return run(server_url)
    finally:
        if not was_running:
            devdb.stop(DATA_DIR)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
