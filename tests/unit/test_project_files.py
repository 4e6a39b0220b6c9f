"""The files people read before they adopt the project stay true: .env.example lists every setting the
service reads, the changelog's latest release is the package version, the license is declared, and a
skipped test says why in pytest's summary."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from service.config import VARIABLES

REPO = Path(__file__).resolve().parents[2]


def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_env_example_lists_every_variable_the_service_reads_and_no_other() -> None:
    listed = re.findall(r"^# ([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.MULTILINE)
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    assert sorted(listed) == sorted(VARIABLES)


def test_changelog_latest_release_is_the_package_version() -> None:
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (REPO / "CHANGELOG.md").read_text(), re.M)
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert releases and releases[0] == project["version"]


def test_license_is_mit_and_declared() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert project["license"] == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License")


def test_pytest_summary_names_the_reason_of_every_skip(tmp_path: Path) -> None:
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\ndef test_needs_a_tool():\n    pytest.skip('needs pgbouncer (apt-get install pgbouncer)')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"SKIPPED \[1\] test_skips.py:\d+: needs pgbouncer", result.stdout), result.stdout
