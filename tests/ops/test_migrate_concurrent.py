"""`python -m service migrate` as deploys run it: two at once apply the schema exactly once, a rerun is a fast
no-op, and MIGRATIONS_DATABASE_URL (Neon's direct URL) wins over DATABASE_URL (the pooler)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import psycopg

from service import migrate
from tests.helpers import service_env
from tests.ops.conftest import REPO

TIMEOUT = 60
MIGRATIONS = sorted(p.name.removesuffix(".sql") for p in migrate.MIGRATIONS.glob("*.sql") if ".rollback" not in p.name)
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nowhere?connect_timeout=2"


def start_migrate(**env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "service", "migrate"],
        cwd=REPO,
        env=service_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    return process.returncode, stderr


def applied_count(stderr: str) -> int:
    found = re.findall(r"^migrations: (\d+) applied$", stderr, re.MULTILINE)
    assert len(found) == 1, stderr
    return int(found[0])


def yoyo_state(url: str) -> tuple[list[str], list[str]]:
    """Migrations recorded as applied, and every `apply` yoyo ever logged, in order."""
    with psycopg.connect(url) as connection:
        recorded = [r[0] for r in connection.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1")]
        applies = [
            r[0]
            for r in connection.execute(
                "SELECT migration_id FROM _yoyo_log WHERE operation = 'apply' ORDER BY created_at_utc"
            )
        ]
    return recorded, applies


def test_two_concurrent_migrations_apply_the_schema_once(scratch_url: str) -> None:
    assert MIGRATIONS, "no migrations found"
    first, second = start_migrate(DATABASE_URL=scratch_url), start_migrate(DATABASE_URL=scratch_url)
    results = [finish(first), finish(second)]
    for code, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr, stderr
    assert sorted(applied_count(stderr) for _, stderr in results) == [0, len(MIGRATIONS)]

    recorded, applies = yoyo_state(scratch_url)
    assert recorded == MIGRATIONS
    assert sorted(applies) == MIGRATIONS  # each applied exactly once: no second apply after a lost race
    with psycopg.connect(scratch_url) as connection:
        assert connection.execute("SELECT to_regclass('public.tasks') IS NOT NULL").fetchone() == (True,)

    started = time.monotonic()
    code, stderr = finish(start_migrate(DATABASE_URL=scratch_url))
    elapsed = time.monotonic() - started
    assert code == 0, stderr
    assert applied_count(stderr) == 0
    assert elapsed < 5, f"a migrate with nothing to do took {elapsed:.1f} s"
    assert yoyo_state(scratch_url) == (recorded, applies)


def test_migrations_database_url_wins_over_database_url(scratch_url: str) -> None:
    code, stderr = finish(start_migrate(DATABASE_URL=UNREACHABLE, MIGRATIONS_DATABASE_URL=scratch_url))
    assert code == 0, stderr
    assert applied_count(stderr) == len(MIGRATIONS)
    assert yoyo_state(scratch_url)[0] == MIGRATIONS


def test_an_unreachable_database_fails_the_migration(scratch_url: str) -> None:
    """The check above could pass if migrate ignored both URLs; this one shows DATABASE_URL alone is used."""
    code, stderr = finish(start_migrate(DATABASE_URL=UNREACHABLE))
    assert code != 0, stderr
    code, stderr = finish(start_migrate(DATABASE_URL=scratch_url))
    assert code == 0, stderr
    assert applied_count(stderr) == len(MIGRATIONS)
