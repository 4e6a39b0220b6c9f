"""How many CPUs this process may use: WEB_CONCURRENCY's default.

A container sees the host's cores (os.cpu_count) but may run on a fraction of them: its CPU quota
(cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`). One granian worker per core the
quota grants, rounded up (a quota of 1.5 CPUs gets 2 workers: the second uses the half core the first
leaves while it waits on PostgreSQL); without a quota, the cores this process is pinned to
(os.sched_getaffinity), else every core; at least 1.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
MEMBERSHIP = Path("/proc/self/cgroup")
_V1_CONTROLLERS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def available(root: Path = CGROUP_ROOT, membership: Path = MEMBERSHIP) -> int:
    quota = cgroup_quota(root, membership)
    if quota is not None:
        return max(1, math.ceil(quota))
    if hasattr(os, "sched_getaffinity"):  # Linux; macOS has no affinity call
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def cgroup_quota(root: Path = CGROUP_ROOT, membership: Path = MEMBERSHIP) -> float | None:
    """The CPUs the process's cgroups allow (quota / period, the tightest on the way up), or None: no limit."""
    if (root / "cgroup.controllers").is_file():
        return _tightest(_v2_limit(directory) for directory in _own_dirs(root, _v2_path(membership)))
    for controller in _V1_CONTROLLERS:
        mount = root / controller
        if mount.is_dir():
            return _tightest(_v1_limit(directory) for directory in _own_dirs(mount, _v1_path(membership)))
    return None


def _tightest(limits: Iterable[float | None]) -> float | None:
    found = [limit for limit in limits if limit is not None]
    return min(found) if found else None


def _own_dirs(mount: Path, own: str) -> list[Path]:
    """The process's cgroup directory under `mount` and every parent up to the mount.

    Inside a container with its own cgroup namespace the process's path is "/" and the mount is its own
    cgroup; on a host, or without the namespace, the path names the directory below the mount.
    """
    directory = mount / own.strip("/")
    dirs = []
    while True:
        if directory.is_dir():
            dirs.append(directory)
        if directory == mount or mount not in directory.parents:
            return dirs
        directory = directory.parent


def _v2_path(membership: Path) -> str:
    for line in _lines(membership):
        if line.startswith("0::"):
            return line[3:]
    return "/"


def _v1_path(membership: Path) -> str:
    for line in _lines(membership):
        _, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if "cpu" in controllers.split(","):
            return path
    return "/"


def _v2_limit(directory: Path) -> float | None:
    """`cpu.max` holds "<quota> <period>" in microseconds, or "max <period>" without a limit."""
    fields = _read(directory / "cpu.max").split()
    if len(fields) != 2 or fields[0] == "max":
        return None
    return _ratio(fields[0], fields[1])


def _v1_limit(directory: Path) -> float | None:
    """`cpu.cfs_quota_us` is -1 without a limit."""
    return _ratio(_read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us"))


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _lines(path: Path) -> list[str]:
    return _read(path).splitlines()
