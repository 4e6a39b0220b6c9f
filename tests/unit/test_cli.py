"""The CLI as a user runs it: `python -m service token` prints a verifiable token, and `serve` refuses a bad
configuration with one line and exit status 2 before it starts any database.

In a checkout, serve and token fall back to the checkout's dev secret (tests/ops/test_checkout.py); the
production image has no dev module, which `_run_as_in_image` reproduces by making its import fail."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from tests.helpers import service_env

REPO = Path(__file__).resolve().parents[2]
SECRET = "cli-secret-0123456789-abcdefghijklmnopq"  # 40 characters
TIMEOUT = 30


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=REPO,
        env=service_env(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _run_as_in_image(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI without service/devdb.py, as in the image: no embedded database, no dev secret."""
    code = "import sys; sys.modules['service.devdb'] = None; from service.__main__ import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=service_env(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _assert_config_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error:"), lines[0]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert result.stdout == ""


def test_token_prints_a_verifiable_token() -> None:
    result = _run("token", "alice", "--ttl", "60", JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout.count("\n") == 1
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 60
    assert abs(claims["iat"] - time.time()) < TIMEOUT
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET[::-1], algorithms=["HS256"])


def test_token_signs_with_better_auth_secret() -> None:
    result = _run("token", "bob", BETTER_AUTH_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "bob"
    assert claims["exp"] - claims["iat"] == 3600


def test_token_without_a_secret_is_a_config_error() -> None:
    _assert_config_error(_run("token", "alice", JWT_JWKS_URL="https://app.example/api/auth/jwks"), "JWT_SECRET")


def test_token_with_a_bad_ttl_is_a_config_error() -> None:
    _assert_config_error(_run("token", "alice", "--ttl", "0", JWT_SECRET=SECRET), "ttl")


def test_serve_without_a_key_source_exits_2() -> None:
    started = time.monotonic()
    result = _run_as_in_image("serve")
    _assert_config_error(result, "JWT_SECRET")
    assert time.monotonic() - started < TIMEOUT / 2


def test_token_without_a_key_source_in_the_image_exits_2() -> None:
    _assert_config_error(_run_as_in_image("token", "alice"), "JWT_SECRET")


def test_serve_without_database_url_in_the_image_exits_2() -> None:
    _assert_config_error(_run_as_in_image("serve", JWT_SECRET=SECRET), "DATABASE_URL", "development only")


def test_serve_with_a_malformed_value_exits_2() -> None:
    _assert_config_error(_run("serve", JWT_SECRET=SECRET, PORT="abc"), "PORT", "'abc'")


def test_serve_with_a_short_secret_exits_2() -> None:
    _assert_config_error(_run("serve", JWT_SECRET="too-short"), "JWT_SECRET", "32")


def test_serve_with_a_bad_database_url_exits_2() -> None:
    _assert_config_error(_run("serve", JWT_SECRET=SECRET, DATABASE_URL="mysql://u@h/db"), "DATABASE_URL")


def test_migrate_needs_no_key_but_checks_values() -> None:
    _assert_config_error(_run("migrate", DB_POOL_MAX_SIZE="zero"), "DB_POOL_MAX_SIZE")


def test_unknown_command_is_a_usage_error() -> None:
    result = _run("launch", JWT_SECRET=SECRET)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_serve_waits_for_a_database_that_is_not_up_yet_with_one_line() -> None:
    """Compose may start the service before PostgreSQL accepts connections; serve waits instead of a traceback."""
    with socket.socket() as closed:  # a port nothing listens on, for a database that is not up yet
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        serve_port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        cwd=REPO,
        env=service_env(JWT_SECRET=SECRET, PORT=str(serve_port), DATABASE_URL=f"postgresql://u:p@127.0.0.1:{port}/db"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        assert first.startswith("waiting up to 30 s for the database ("), first
        time.sleep(1.5)
        assert server.poll() is None, "serve gave up at once"
    finally:
        server.kill()
        _, rest = server.communicate(timeout=TIMEOUT)
    assert "Traceback" not in rest, rest
