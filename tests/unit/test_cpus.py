"""WEB_CONCURRENCY's default: the container's CPU quota (cgroup v2 and v1), else the affinity mask."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service import cpus


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _v2(tmp_path: Path, own: str = "/") -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    _write(root / "cgroup.controllers", "cpuset cpu io memory pids\n")
    membership = tmp_path / "self-cgroup"
    _write(membership, f"0::{own}\n")
    return root, membership


def _v1(tmp_path: Path, quota: str, period: str = "100000", controller: str = "cpu,cpuacct") -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    _write(root / controller / "cpu.cfs_quota_us", quota + "\n")
    _write(root / controller / "cpu.cfs_period_us", period + "\n")
    membership = tmp_path / "self-cgroup"
    _write(membership, f"12:memory:/\n4:{controller}:/\n0::/\n")
    return root, membership


@pytest.mark.parametrize(
    ("cpu_max", "quota", "workers"),
    [("200000 100000", 2.0, 2), ("150000 100000", 1.5, 2), ("50000 100000", 0.5, 1), ("400000 50000", 8.0, 8)],
)
def test_a_v2_quota_rounds_up_to_whole_workers(tmp_path: Path, cpu_max: str, quota: float, workers: int) -> None:
    root, membership = _v2(tmp_path)
    _write(root / "cpu.max", cpu_max + "\n")
    assert cpus.cgroup_quota(root, membership) == quota
    assert cpus.available(root, membership) == workers


def test_v2_without_a_limit_falls_back_to_the_affinity_mask(tmp_path: Path) -> None:
    root, membership = _v2(tmp_path)
    _write(root / "cpu.max", "max 100000\n")
    assert cpus.cgroup_quota(root, membership) is None
    assert cpus.available(root, membership) == len(os.sched_getaffinity(0))


def test_v2_takes_the_tightest_limit_from_the_process_cgroup_up(tmp_path: Path) -> None:
    """On a host (no cgroup namespace) the limit may sit on the process's cgroup or any parent."""
    root, membership = _v2(tmp_path, own="/system.slice/app.service")
    _write(root / "system.slice" / "cpu.max", "300000 100000\n")
    _write(root / "system.slice" / "app.service" / "cpu.max", "max 100000\n")
    assert cpus.cgroup_quota(root, membership) == 3.0
    _write(root / "system.slice" / "app.service" / "cpu.max", "120000 100000\n")
    assert cpus.available(root, membership) == 2


@pytest.mark.parametrize("controller", ["cpu,cpuacct", "cpu"])
def test_a_v1_quota_is_quota_over_period(tmp_path: Path, controller: str) -> None:
    root, membership = _v1(tmp_path, "250000", controller=controller)
    assert cpus.cgroup_quota(root, membership) == 2.5
    assert cpus.available(root, membership) == 3


def test_v1_quota_of_minus_one_is_no_limit(tmp_path: Path) -> None:
    root, membership = _v1(tmp_path, "-1")
    assert cpus.cgroup_quota(root, membership) is None


@pytest.mark.parametrize("content", ["", "garbage\n", "100000\n", "0 100000\n", "abc 100000\n"])
def test_an_unreadable_or_odd_cpu_max_is_no_limit(tmp_path: Path, content: str) -> None:
    root, membership = _v2(tmp_path)
    _write(root / "cpu.max", content)
    assert cpus.cgroup_quota(root, membership) is None


def test_no_cgroup_filesystem_is_no_limit(tmp_path: Path) -> None:
    assert cpus.cgroup_quota(tmp_path / "absent", tmp_path / "absent-self") is None
    assert cpus.available(tmp_path / "absent", tmp_path / "absent-self") >= 1


def test_without_an_affinity_call_every_core_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cpus.available(tmp_path / "absent", tmp_path / "absent-self") == 1
