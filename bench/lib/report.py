"""The bench's output: one table on stdout, the same numbers as JSON under bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.lib.drive import CONNECTIONS, Result

SCALE_SCENARIOS = ("get-one", "list-100")


def with_floor_ratios(results: list[Result]) -> None:
    """vs_floor = req/s / the floor's req/s at the same worker count (and the floor's 100 connections)."""
    floors = {r.workers: r.rps for r in results if r.scenario == "http-floor"}
    for r in results:
        if r.workers in floors and r.scenario != "http-floor" and r.connections == CONNECTIONS:
            r.vs_floor = r.rps / floors[r.workers]


def worker_scaling(results: list[Result]) -> list[dict[str, Any]]:
    """2-worker req/s / 1-worker req/s per scenario (the floor included)."""
    one = {r.scenario: r for r in results if r.workers == 1 and r.connections == CONNECTIONS}
    return [
        {"scenario": r.scenario, "rps_1": one[r.scenario].rps, "rps_2": r.rps, "ratio": r.rps / one[r.scenario].rps}
        for r in results
        if r.workers == 2 and r.scenario in one and r.connections == CONNECTIONS
    ]


def scale_check(before: list[Result], after: list[Result]) -> list[dict[str, Any]]:
    small = {r.scenario: r for r in before if r.workers == 1}
    return [
        {
            "scenario": r.scenario,
            "rows_before": small[r.scenario].rows,
            "p95_ms_before": small[r.scenario].p95_ms,
            "rps_before": small[r.scenario].rps,
            "rows_after": r.rows,
            "p95_ms_after": r.p95_ms,
            "rps_after": r.rps,
            "p95_ratio": r.p95_ms / small[r.scenario].p95_ms,
        }
        for r in after
        if r.scenario in small
    ]


# (scenario, what it is compared with, the bound the issue sets): 1 worker, req/s over req/s.
COMPARISONS = (
    ("feed-100", "list-100", 0.80),  # a feed page of 100 changes within 20% of a list page of 100
    ("create", "create@base", 0.90),  # writes with the change counter lose at most 10%
    ("patch", "patch@base", 0.90),
    ("toggle", "toggle@base", 0.90),
)


def comparisons(results: list[Result]) -> list[dict[str, Any]]:
    one = {r.scenario: r for r in results if r.workers == 1}
    return [
        {"scenario": a, "against": b, "ratio": one[a].rps / one[b].rps, "at_least": bound}
        for a, b, bound in COMPARISONS
        if a in one and b in one and one[b].rps > 0
    ]


def label(r: Result) -> str:
    """The scenario, with its connections when they are not the usual 100 (list-1000 c10)."""
    return r.scenario if r.connections == CONNECTIONS else f"{r.scenario} c{r.connections}"


def _row(r: Result) -> str:
    workers = "-" if r.workers is None else str(r.workers)
    rate = f"{r.rps:9.0f}" + (" tx/s" if r.workers is None else "     ")
    ratio = "" if r.vs_floor is None else f"{r.vs_floor:8.1%}"
    return f"{label(r):<16}{workers:>7} {rate}{r.p50_ms:8.2f}{r.p95_ms:8.2f}{r.p99_ms:8.2f}{r.errors:8d}  {ratio}"


def print_tables(results: list[Result], scale: list[dict[str, Any]], scaling: list[dict[str, Any]]) -> None:
    columns = ("req/s", "", "p50ms", "p95ms", "p99ms", "errors")
    print("\n{:<16}{:>7} {:>9}{:>5}{:>8}{:>8}{:>8}{:>8}  vs floor".format("scenario", "workers", *columns))
    for r in results:
        print(_row(r))
    if scale:
        side = ("rows", "p95ms", "req/s")
        print("\n{:<22}{:>12}{:>9}{:>9}  |{:>11}{:>9}{:>9}  p95 x".format("scale check (1 worker)", *side, *side))
        for s in scale:
            print(
                f"{s['scenario']:<22}{s['rows_before']:>12,}{s['p95_ms_before']:9.2f}{s['rps_before']:9.0f}  |"
                f"{s['rows_after']:>11,}{s['p95_ms_after']:9.2f}{s['rps_after']:9.0f}  {s['p95_ratio']:.2f}"
            )
    if scaling:
        print(f"\n{'workers 1 -> 2':<16}{'1w req/s':>10}{'2w req/s':>10}{'2w/1w':>8}")
        for s in scaling:
            print(f"{s['scenario']:<16}{s['rps_1']:10.0f}{s['rps_2']:10.0f}{s['ratio']:8.2f}")


def write_json(path: Path, meta: dict[str, Any], results: list[Result], scale: list[dict[str, Any]],
               scaling: list[dict[str, Any]], targets: list[dict[str, Any]]) -> None:  # fmt: skip
    document = {
        **meta,
        "targets": targets,
        "results": [r.as_json() for r in results],
        "scale_check": scale,
        "worker_scaling": scaling,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
