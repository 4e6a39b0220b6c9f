"""The load generators: wrk (HTTP scenarios and the floor) and pgbench (the database ceiling)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WRK_THREADS = 2
CONNECTIONS = 100
WRK_TIMEOUT = "10s"  # list-1000 answers in seconds under 100 connections; wrk's 2 s default would call it an error
PGBENCH_JOBS = 2
PGBENCH_SAMPLING = 0.1  # log every 10th transaction for the percentiles: cheap enough not to bend the number
LUA = Path(__file__).resolve().parents[1] / "lua" / "api.lua"


@dataclass
class Result:
    scenario: str
    workers: int | None  # None: pgbench, no HTTP workers
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    statuses: dict[str, int] = field(default_factory=dict)  # non-2xx responses by status
    socket_errors: dict[str, int] = field(default_factory=dict)
    bytes_per_request: float | None = None  # response bytes (headers included) per request: a sanity check
    vs_floor: float | None = None
    rows: int | None = None  # rows in the tasks table when it ran
    connections: int = CONNECTIONS  # requests in flight (wrk's -c, pgbench's -c)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def run_wrk(
    url: str, scenario: str, data: Path, seconds: float, workers: int, connections: int = CONNECTIONS
) -> Result:
    command = [
        "wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", WRK_TIMEOUT,
        "-s", str(LUA), url, "--", scenario, str(data),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk {scenario} failed ({done.returncode}): {done.stderr.strip()} {done.stdout[-500:]}")
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    sockets = {key: int(raw[key]) for key in ("connect", "read", "write", "timeout")}
    return Result(
        scenario=scenario,
        workers=workers,
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=int(raw["non2xx"]) + sum(sockets.values()),
        requests=int(raw["requests"]),
        statuses={str(k): int(v) for k, v in raw["statuses"].items()},
        socket_errors=sockets,
        bytes_per_request=raw["bytes"] / max(1, raw["requests"]),
        connections=connections,
    )


def pgbench_script(get_sql: str) -> str:
    """The service's tasks/get statement as loaded, $1/$2 as pgbench variables (parameters under -M prepared).

    pgbench variables are numbers, so each client looks up one real (user_id, id) once, in its first
    transaction (`\\gset`), and then runs nothing but the service's statement for the rest of the run.
    """
    body = "\n".join(line for line in get_sql.splitlines() if not line.lstrip().startswith("--")).strip()
    body = body.replace("$1", ":user_id").replace("$2", ":task_id")
    return (
        "\\if :looked_up = 0\n"
        "\\set k random(0, :nrows - 1)\n"
        "SELECT user_id, id AS task_id FROM tasks ORDER BY user_id, id OFFSET :k LIMIT 1 \\gset\n"
        "\\set looked_up 1\n"
        "\\endif\n"
        f"{body};\n"
    )


def run_pgbench(pgbench: Path, host: str, database: str, get_sql: str, nrows: int, seconds: float) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as tmp:
        script = Path(tmp) / "get.sql"
        script.write_text(pgbench_script(get_sql))
        command = [
            str(pgbench), "-h", host, "-U", "postgres", "-n", "-M", "prepared",
            "-c", str(CONNECTIONS), "-j", str(PGBENCH_JOBS), "-T", str(max(1, round(seconds))),
            "-D", "looked_up=0", "-D", f"nrows={nrows}", "-f", str(script),
            "-l", f"--sampling-rate={PGBENCH_SAMPLING}", f"--log-prefix={tmp}/log", database,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        latencies = sorted(int(line.split()[2]) for log in Path(tmp).glob("log.*") for line in log.open())
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    processed = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    if tps is None or not latencies:
        raise RuntimeError(f"pgbench: unexpected output:\n{done.stdout}")
    return Result(
        scenario="pgbench get.sql",
        workers=None,
        rps=float(tps.group(1)),
        p50_ms=percentile(latencies, 50) / 1000,
        p95_ms=percentile(latencies, 95) / 1000,
        p99_ms=percentile(latencies, 99) / 1000,
        errors=int(failed.group(1)) if failed else 0,
        requests=int(processed.group(1)) if processed else 0,
    )


def percentile(ordered: list[int], p: float) -> float:
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))])
