"""The targets the issues set, each checked against one run: met, not met, or not run.

Every figure a target reads comes from the same run (a ratio to that run's floor, to that run's
baseline, or a latency measured in it), so a verdict never compares numbers of two different runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from math import inf
from typing import Any

from bench.lib.drive import Result
from bench.lib.report import label

MET, NOT_MET, NOT_RUN = "met", "not met", "not run"

# One worker, share of the HTTP floor (issue 16).
FLOOR_SHARES = (
    ("get-one", 0.10),
    ("create", 0.05),
    ("patch", 0.05),
    ("toggle", 0.05),
    ("list-100", 0.03),
    ("list-1000", 0.005),
    ("mixed", 0.06),
)
# Two workers, p95 below a bound, at the connections each is measured with (issue 16; the seed's p95).
P95_BOUNDS = (
    ("get-one", 100, 150.0),
    ("create", 100, 150.0),
    ("patch", 100, 150.0),
    ("toggle", 100, 150.0),
    ("list-1000", 10, 500.0),
)
# One worker, req/s over req/s (issue 12): the change feed against a list page, writes against the baseline.
RATIOS = (
    ("feed-100", "list-100", 0.80),
    ("create", "create@base", 0.90),
    ("patch", "patch@base", 0.90),
    ("toggle", "toggle@base", 0.90),
)
LIVE_P95_MS = 250.0  # commit to event, 1,000 streams (issue of the live updates)


@dataclass
class Verdict:
    target: str
    measured: str
    verdict: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)


def _find(results: Iterable[Result], scenario: str, workers: int, connections: int | None = None) -> Result | None:
    for r in results:
        if r.scenario == scenario and r.workers == workers and (connections is None or r.connections == connections):
            return r
    return None


def _check(target: str, value: float | None, shown: str, *, at_least: float = -inf, below: float = inf) -> Verdict:
    """`shown`: a format for the value ("{:.2%}")."""
    if value is None:
        return Verdict(target, "-", NOT_RUN)
    return Verdict(target, shown.format(value), MET if at_least <= value < below else NOT_MET)


def floor_shares(results: list[Result]) -> list[Verdict]:
    verdicts = []
    for scenario, share in FLOOR_SHARES:
        r = _find(results, scenario, 1, 100)
        value = None if r is None else r.vs_floor
        verdicts.append(_check(f"{scenario} >= {share:.1%} of the floor, 1 worker", value, "{:.2%}", at_least=share))
    return verdicts


def p95_bounds(results: list[Result]) -> list[Verdict]:
    verdicts = []
    for scenario, connections, bound in P95_BOUNDS:
        r = _find(results, scenario, 2, connections)
        value = None if r is None else r.p95_ms
        target = f"{scenario} p95 < {bound:.0f} ms at {connections} connections, 2 workers"
        verdicts.append(_check(target, value, "{:.1f} ms", below=bound))
    return verdicts


def ratios(results: list[Result]) -> list[Verdict]:
    verdicts = []
    for scenario, against, bound in RATIOS:
        a, b = _find(results, scenario, 1, 100), _find(results, against, 1, 100)
        value = a.rps / b.rps if a is not None and b is not None and b.rps > 0 else None
        target = f"{scenario} >= {bound:.2f} x {against}, 1 worker"
        verdicts.append(_check(target, value, "{:.2f}", at_least=bound))
    return verdicts


def no_errors(results: list[Result], extra: dict[str, int]) -> Verdict:
    """0 errors in every scenario run (the floor and pgbench included); `extra`: other parts' error counts."""
    counts = {f"{label(r)} {r.workers or '-'}w": r.errors for r in results} | extra
    if not counts:
        return Verdict("0 errors in every scenario", "-", NOT_RUN)
    failing = {name: n for name, n in counts.items() if n}
    shown = ", ".join(f"{name}: {n}" for name, n in failing.items()) or f"0 in {len(counts)} measurements"
    return Verdict("0 errors in every scenario", shown, NOT_MET if failing else MET)


def live(p95_ms: float | None, missed: int | None) -> list[Verdict]:
    return [
        _check(f"live: commit -> event p95 < {LIVE_P95_MS:.0f} ms", p95_ms, "{:.1f} ms", below=LIVE_P95_MS),
        _check("live: 0 missed events", None if missed is None else float(missed), "{:.0f}", below=1),
    ]


def evaluate(results: list[Result], *, extra_errors: dict[str, int], live_p95_ms: float | None = None,
             live_missed: int | None = None) -> list[Verdict]:  # fmt: skip
    """Every target of the issues, in the order the table prints them."""
    return [
        *floor_shares(results),
        no_errors(results, extra_errors),
        *p95_bounds(results),
        *ratios(results),
        *live(live_p95_ms, live_missed),
    ]


def print_table(verdicts: list[Verdict]) -> None:
    width = max(len(v.target) for v in verdicts) + 2
    print(f"\n{'target':<{width}}{'measured':<24}verdict")
    for v in verdicts:
        print(f"{v.target:<{width}}{v.measured:<24}{v.verdict}")
    met = sum(v.verdict == MET for v in verdicts)
    unmet = sum(v.verdict == NOT_MET for v in verdicts)
    print(f"{met} met, {unmet} not met, {len(verdicts) - met - unmet} not run")


def as_json(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    return [v.as_json() for v in verdicts]
