"""A fresh checkout's front door, used as a newcomer uses it: the README's "Try it" block pasted into bash,
a second `make run`, a taken port, `make token` and the token CLI.

Every test works in one copy of this working tree (tracked and new files; no .venv, no .data), so its
embedded PostgreSQL and dev secret are its own. Its `.venv` is installed by `make` itself, from uv's warm
cache (about a second). Processes are started in sessions of their own and stopped by that id.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from service import demo, devdb
from tests.helpers import service_env
from tests.ops.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 180.0  # a first run installs, initialises PostgreSQL and migrates on a loaded machine
COMMAND_TIMEOUT = 60.0
pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("curl") is None or shutil.which("git") is None,
    reason="needs make, curl and git, as a newcomer's machine has",
)


def checkout_env(**variables: str) -> dict[str, str]:
    """A newcomer's shell: no service settings, no make of ours around it, a login name that is not NAME."""
    environ = service_env(USER="mallory", **variables)
    for inherited in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "NAME"):
        environ.pop(inherited, None)
    environ.update(variables)
    return environ


@pytest.fixture(scope="module")
def checkout() -> Iterator[Path]:
    # Not under pytest's tmp_path: that is private to us (0700), and as root the embedded PostgreSQL runs
    # as its own user, which must reach its binaries and libraries inside the checkout's .venv.
    root = Path(tempfile.mkdtemp(prefix="tasks-checkout-"))
    root.chmod(0o755)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=COMMAND_TIMEOUT,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # tracked files deleted in the working tree are skipped
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    if (REPO / ".tools").is_dir():  # uv itself; without it the checkout bootstraps its own
        (root / ".tools").symlink_to(REPO / ".tools")
    try:
        yield root
    finally:
        devdb.stop(root / ".data" / "postgres")  # only if a failed test left it running
        shutil.rmtree(root, ignore_errors=True)


def wait_ready(port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2.0).status_code == 200:
                return
        time.sleep(0.25)
    raise AssertionError(f"not ready within {READY_TIMEOUT} s:\n{log.read_text(errors='replace')}")


def stop_session(leader: subprocess.Popen[bytes], within: float = 30.0) -> None:
    """SIGTERM to the session this test started (a server drains and stops its database), then SIGKILL.

    The session's id is its leader's pid, which cannot be reused while the leader is unreaped or any
    process is left in the session.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGTERM)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        leader.poll()  # reap it, or the zombie alone keeps the session alive
        try:
            os.killpg(leader.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGKILL)
    raise AssertionError(f"session {leader.pid} still running {within} s after SIGTERM")


def make(checkout: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", *args],
        cwd=checkout,
        env=checkout_env(**variables),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def own_lines(stderr: str) -> list[str]:
    """What the project printed, without make's own `make: *** [...] Error N` trailer."""
    return [line for line in stderr.splitlines() if not line.startswith("make: ***")]


def try_it_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Try it\n", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "README's Try it section has no sh block"
    return match.group(1)


def test_readme_try_it_block_runs_as_pasted(checkout: Path) -> None:
    block = try_it_block()
    assert "make run &" in block and "localhost:8000" in block
    port = free_port()  # the block as written, on a port of its own (8000 may be taken on this machine)
    script = block.replace("localhost:8000", f"localhost:{port}")
    output = checkout / "try-it.out"
    with output.open("wb") as sink:  # a file, not a pipe: the server it leaves running keeps its stdout
        shell = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=checkout,
            env=checkout_env(PORT=str(port)),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = shell.wait(timeout=READY_TIMEOUT + COMMAND_TIMEOUT)
    finally:
        stop_session(shell)
    text = output.read_text(errors="replace")
    assert code == 0, text
    assert "HTTP/1.1 204" in text, text
    assert '"database":"ok"' in text, text
    assert "Traceback" not in text, text
    assert "embedded PostgreSQL stopped" in text, text  # the server it started ended with its database
    assert not devdb.is_running(checkout / ".data" / "postgres")


def test_second_make_run_refuses_and_the_first_keeps_serving(checkout: Path) -> None:
    first_port, second_port = free_port(), free_port()
    log = checkout / "first-run.log"
    with log.open("wb") as sink:
        first = subprocess.Popen(
            ["make", "run"],
            cwd=checkout,
            env=checkout_env(PORT=str(first_port)),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(first_port, log)
        second = make(checkout, "run", PORT=str(second_port))
        assert second.returncode != 0
        lines = own_lines(second.stderr)
        assert len(lines) == 1, second.stderr
        assert re.fullmatch(rf"already running, pid \d+, port {first_port} \(.*\)", lines[0]), lines[0]
        # The first one still owns its database and answers; the second never listened.
        assert httpx.get(f"http://127.0.0.1:{first_port}/health/ready", timeout=5.0).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{second_port}/health", timeout=2.0)
    finally:
        stop_session(first)
    assert first.wait(timeout=10) is not None
    assert "embedded PostgreSQL stopped" in log.read_text(errors="replace")
    assert not devdb.is_running(checkout / ".data" / "postgres")


def test_taken_port_is_one_line_and_starts_nothing(checkout: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = make(checkout, "run", PORT=str(port))
    assert result.returncode != 0
    assert own_lines(result.stderr) == [
        f"127.0.0.1:{port} is already in use; choose another port: PORT={port + 1} make run"
    ]
    assert not devdb.is_running(checkout / ".data" / "postgres")


def test_first_make_tokens_at_once_install_once_and_agree_on_one_dev_secret(checkout: Path) -> None:
    shutil.rmtree(checkout / ".venv", ignore_errors=True)
    secret_file = checkout / ".data" / "dev-jwt-secret"
    secret_file.unlink(missing_ok=True)
    racers = [
        subprocess.Popen(
            ["make", "-s", "token", "NAME=alice"],
            cwd=checkout,
            env=checkout_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [racer.communicate(timeout=COMMAND_TIMEOUT * 3) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
    assert sum(err.count("installing the locked dependencies") for _, err in outputs) == 1, outputs
    secret = secret_file.read_text().strip()
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    for out, _ in outputs:  # stdout is the token alone, even for the one that installed
        assert out.count("\n") == 1
        assert jwt.decode(out.strip(), secret, algorithms=["HS256"])["sub"] == "alice"
    assert not list(secret_file.parent.glob(".dev-jwt-secret.*")), "a draft was left behind"

    # The CLI run by hand finds the same secret, as `make run` does.
    cli = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-m", "service", "token", "bob"],
        cwd=checkout,
        env=checkout_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert jwt.decode(cli.stdout.strip(), secret, algorithms=["HS256"])["sub"] == "bob"


@pytest.mark.parametrize("variables", [{}, {"NAME": "carol"}], ids=["no-name", "name-from-environment"])
def test_make_token_needs_a_name_on_the_command_line(checkout: Path, variables: dict[str, str]) -> None:
    result = make(checkout, "token", **variables)  # USER=mallory is set, as every shell sets it
    assert result.returncode == 2
    assert result.stdout == ""
    assert own_lines(result.stderr) == ["usage: make token NAME=alice"]


def test_demo_seeds_the_running_server_and_reset_waits_for_it_to_stop(checkout: Path) -> None:
    port = free_port()
    log = checkout / "demo-run.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            ["make", "run"],
            cwd=checkout,
            env=checkout_env(PORT=str(port)),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(port, log)
        for _ in range(2):  # the second run returns the same tasks (Idempotency-Key), it adds none
            seeded = make(checkout, "demo", "NAME=dana", PORT=str(port))
            assert seeded.returncode == 0, seeded.stderr
        token = make(checkout, "token", "NAME=dana").stdout.strip()
        listed = httpx.get(
            f"http://127.0.0.1:{port}/api/dana/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )
        tasks = listed.json()["data"]
        assert len(tasks) == len(demo.TASKS)
        assert {task["priority"] for task in tasks} == {"low", "medium", "high"}
        assert all(task["tags"] for task in tasks)
        assert sum(task["due_date"] is not None for task in tasks) >= len(tasks) - 1

        refused = make(checkout, "reset")
        assert refused.returncode != 0
        assert len(own_lines(refused.stderr)) == 1, refused.stderr
        assert "refused" in refused.stderr
        assert (checkout / ".data" / "postgres" / "PG_VERSION").exists()
    finally:
        stop_session(server)
    reset = make(checkout, "reset")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith("make reset: deleted .data/postgres"), reset.stdout
    assert not (checkout / ".data" / "postgres").exists()
