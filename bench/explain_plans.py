"""EXPLAIN (ANALYZE, BUFFERS) of every list shape (its count included) over 1,000,000 seeded tasks.

    python bench/explain_plans.py [DATABASE_URL]

Without a URL it starts the embedded PostgreSQL in .data/bench-postgres (and stops it again if it
started it). Either way it works in a scratch database that it drops at the end. Each shape is shown
with the custom plan and with the generic plan (the one asyncpg's prepared statements may switch to
after five executions). Exit code 1 when any plan reads tasks with a Seq Scan.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.lib.plan_shapes import MODES, TARGET, explain, seed, shapes  # noqa: E402
from bench.run import DATA_DIR, scratch_database  # noqa: E402
from service import devdb, migrate  # noqa: E402

TOTAL = 1_000_000
TARGET_ROWS = 10_000
OTHER_USERS = 9_900  # about 100 tasks each


def run(server_url: str) -> int:
    with scratch_database(server_url) as url:
        migrate.apply(url)
        with psycopg.connect(url, autocommit=True) as connection:
            started = time.monotonic()
            seed(connection, total=TOTAL, target_rows=TARGET_ROWS, others=OTHER_USERS)
            print(f"seeded {TOTAL:,} tasks ({TARGET_ROWS:,} for {TARGET}) in {time.monotonic() - started:.1f} s")
            seq_scans = []
            for label, text, params in shapes(connection, TARGET_ROWS // 4, every_filter=False):
                for mode_name, mode in MODES.items():
                    plan = explain(connection, mode, text, params, analyze=True)
                    print(f"\n=== {label} [{mode_name}]")
                    print(plan)
                    if "Seq Scan on tasks" in plan:
                        seq_scans.append(f"{label} [{mode_name}]")
    if seq_scans:
        print(f"\nSeq Scan on tasks in {len(seq_scans)} plan(s): " + "; ".join(seq_scans))
        return 1
    print("\nNo plan contains a Seq Scan on tasks.")
    return 0


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
