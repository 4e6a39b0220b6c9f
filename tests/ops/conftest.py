"""Shared pieces for the operations tests: scratch databases, free ports, and the real server as a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import migrate
from tests.helpers import SECRET, create_scratch_database, drop_database, service_env, with_database

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric in Prometheus text format: (labels, value) each."""
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    """An empty database of its own, dropped afterwards."""
    name = create_scratch_database(server_url, "tasks_ops")
    try:
        yield with_database(server_url, name)
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def migrated_scratch_url(server_url: str) -> Iterator[str]:
    """A migrated database of this module's own, so a subprocess server never touches the shared one."""
    name = create_scratch_database(server_url, "tasks_ops")
    url = with_database(server_url, name)
    try:
        migrate.apply(url)
        yield url
    finally:
        drop_database(server_url, name)


class Server:
    """`python -m service serve` in its own session; stderr goes to a file so a full pipe never blocks it."""

    def __init__(self, database_url: str, log_file: Path, **variables: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        # One worker unless a test asks for more: per-process limits (streams, rate counts) stay predictable.
        defaults = {"JWT_SECRET": SECRET, "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "1"}
        settings = defaults | variables
        env = service_env(DATABASE_URL=database_url, PORT=str(self.port), **settings)
        with log_file.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not healthy within {START_TIMEOUT} s:\n{self.log()}")

    def kill(self) -> None:
        """Whatever is left of it: the session this test started (its id is the server's pid), then reap."""
        # The group outlives its leader while a worker is left in it, so its id cannot have been reused.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """A factory: `start_server(database_url, **env)` returns a healthy server, killed after the test."""
    started: list[Server] = []

    def start(database_url: str, **variables: str) -> Server:
        server = Server(database_url, tmp_path / f"server-{len(started)}.log", **variables)
        started.append(server)
        server.wait_healthy()
        return server

    yield start
    for server in started:
        server.kill()
