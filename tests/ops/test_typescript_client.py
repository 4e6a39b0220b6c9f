"""The TypeScript client (clients/typescript) against the real service: its generated types match the
service's OpenAPI document, its node tests pass against a live server, and a real browser on another origin
uses it through CORS. The node tests and the page are in clients/typescript/test/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.helpers import SECRET
from tests.ops.conftest import REPO, Server, free_port

CLIENT = REPO / "clients" / "typescript"
NODE = shutil.which("node")
TSX = CLIENT / "node_modules" / ".bin" / "tsx"
GENERATOR = CLIENT / "node_modules" / ".bin" / "openapi-typescript"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT = CLIENT / "test-output"
NODE_TIMEOUT = 300
REGENERATE = "make client"

needs_node = pytest.mark.skipif(
    NODE is None or not TSX.exists(),
    reason="needs node and clients/typescript/node_modules (make test runs npm ci when npm is installed)",
)


def test_the_committed_openapi_document_is_the_cli_output() -> None:
    # A process of its own: Litestar names some schemas differently once another app was built in the same
    # process (as the suite does), and the document a client is generated from is a fresh process's.
    printed = subprocess.run(
        [sys.executable, "-m", "service", "openapi"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert printed == (CLIENT / "openapi.json").read_text(), (
        f"clients/typescript/openapi.json is stale: run `{REGENERATE}`"
    )


@needs_node
def test_the_generated_types_are_those_of_the_committed_document(tmp_path: Path) -> None:
    generated = tmp_path / "schema.ts"
    _node(str(GENERATOR), "openapi.json", "--default-non-nullable", "false", "--output", str(generated))
    committed = (CLIENT / "src" / "schema.ts").read_text()
    assert generated.read_text() == committed, f"clients/typescript/src/schema.ts is stale: run `{REGENERATE}`"


@needs_node
def test_the_client_type_checks_against_the_generated_types() -> None:
    # strict TypeScript over src/ and test/: a changed document that breaks the client's layer fails here
    _node("node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--noEmit")


@needs_node
@pytest.mark.timeout(NODE_TIMEOUT + 60)
def test_the_client_against_a_live_service(migrated_scratch_url: str, start_server: Callable[..., Server]) -> None:
    # Streams end after 2 s here, so the test sees the client reconnect with Last-Event-ID.
    server = start_server(migrated_scratch_url, SSE_MAX_SECONDS="2")
    served = httpx.get(f"{server.base_url}/schema/openapi.json", timeout=10).json()
    assert served == json.loads((CLIENT / "openapi.json").read_text()), f"the served document differs: `{REGENERATE}`"
    _node_test("test/client.test.ts", server, TASKS_DATABASE_URL=migrated_scratch_url)


@needs_node
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium; .ci/run installs it)")
@pytest.mark.timeout(NODE_TIMEOUT + 60)
def test_the_client_in_a_browser_on_another_origin(
    migrated_scratch_url: str, start_server: Callable[..., Server]
) -> None:
    page_port = free_port()
    page_origin = f"http://127.0.0.1:{page_port}"
    server = start_server(migrated_scratch_url, CORS_ORIGINS=page_origin)
    screenshot = OUTPUT / "browser.png"
    screenshot.unlink(missing_ok=True)
    _node_test(
        "test/browser.test.ts",
        server,
        TASKS_PAGE_PORT=str(page_port),
        CHROMIUM_PATH=str(CHROMIUM),
        TASKS_SCREENSHOT=str(screenshot),
    )
    assert screenshot.stat().st_size > 0


def _node_test(test_file: str, server: Server, **variables: str) -> None:
    result = _node(
        "--import",
        "tsx",
        "--test",
        "--test-reporter=tap",
        test_file,
        check=False,
        TASKS_API_URL=server.base_url,
        TASKS_JWT_SECRET=SECRET,
        TASKS_PYTHON=sys.executable,
        TASKS_REPO=str(REPO),
        **variables,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{test_file} failed:\n{output}\n--- server log ---\n{server.log()}"
    # Every test ran: none failed, none skipped (a skip would mean the variables above did not reach it).
    assert re.search(r"^# pass [1-9]", output, re.M), output
    assert re.search(r"^# fail 0$", output, re.M) and re.search(r"^# skipped 0$", output, re.M), output


def _node(*args: str, check: bool = True, **variables: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    result = subprocess.run(
        [NODE, *args],
        cwd=CLIENT,
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result
