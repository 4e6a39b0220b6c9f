"""Schemathesis against the real server's OpenAPI document: every phase, positive and negative data, 0 failures.

`make test` runs a bounded pass (a fixed seed and few examples per operation, about a minute);
`make fuzz` runs this same test with FUZZ_MAX_EXAMPLES raised and a random seed. The configuration
(checks, phases, the one tolerated status) is schemathesis.toml at the repository root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import make_token, service_env
from tests.ops.conftest import REPO, Server

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
BOUNDED_EXAMPLES = "8"
BOUNDED_SEED = "20261129"
RUN_TIMEOUT = 1800.0


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_schemathesis_finds_nothing(migrated_scratch_url: str, start_server: Callable[..., Server]) -> None:
    # Event streams end after a second, so each request the fuzzer makes to one returns promptly.
    server = start_server(migrated_scratch_url, SSE_MAX_SECONDS="1")
    user = f"fuzz_{uuid.uuid4().hex[:12]}"
    examples = os.environ.get("FUZZ_MAX_EXAMPLES", BOUNDED_EXAMPLES)
    seed = os.environ.get("FUZZ_SEED", BOUNDED_SEED if examples == BOUNDED_EXAMPLES else "")
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(REPO / "schemathesis.toml"),
        "--no-color",
        "run",
        f"{server.base_url}/schema/openapi.json",
        "--max-examples",
        examples,
        *(["--seed", seed] if seed else []),
    ]
    env = service_env(
        FUZZ_BASE_URL=server.base_url,
        FUZZ_USER=user,
        FUZZ_TOKEN=make_token(user, ttl=3 * 3600),
    )
    run = subprocess.run(command, cwd=REPO, env=env, timeout=RUN_TIMEOUT, capture_output=True, text=True, check=False)
    print(run.stdout)  # the whole report: shown by pytest on failure, and by `make fuzz` always
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:] + server.log()[-5000:]
