"""The bench's target table: met, not met, or not run, from the figures of one run."""

from __future__ import annotations

from bench.lib import report, targets
from bench.lib.drive import Result


def _result(scenario: str, workers: int | None, rps: float, *, p95: float = 1.0, errors: int = 0,
            connections: int = 100) -> Result:  # fmt: skip
    return Result(scenario, workers, rps, 1.0, p95, p95, errors, 100, connections=connections)


def _verdicts(results: list[Result], **extra: int) -> dict[str, targets.Verdict]:
    report.with_floor_ratios(results)
    return {v.target: v for v in targets.evaluate(results, extra_errors=extra)}


def test_a_share_of_the_floor_is_met_at_its_bound_and_not_below() -> None:
    verdicts = _verdicts([_result("http-floor", 1, 10_000), _result("get-one", 1, 1_000), _result("list-100", 1, 299)])
    assert verdicts["get-one >= 10.0% of the floor, 1 worker"].verdict == targets.MET
    assert verdicts["list-100 >= 3.0% of the floor, 1 worker"].verdict == targets.NOT_MET
    assert verdicts["mixed >= 6.0% of the floor, 1 worker"].verdict == targets.NOT_RUN


def test_the_list_1000_latency_target_reads_the_10_connection_run_only() -> None:
    name = "list-1000 p95 < 500 ms at 10 connections, 2 workers"
    at_100 = _result("list-1000", 2, 30, p95=2_000.0)
    assert _verdicts([at_100])[name].verdict == targets.NOT_RUN
    assert _verdicts([at_100, _result("list-1000", 2, 30, p95=420.0, connections=10)])[name].verdict == targets.MET


def test_one_error_anywhere_fails_the_error_target_and_names_where() -> None:
    clean = [_result("get-one", 1, 1_000), _result("create", 2, 500)]
    assert _verdicts(clean)["0 errors in every scenario"].verdict == targets.MET
    verdict = _verdicts([*clean, _result("list-1000", 2, 30, errors=3, connections=10)])["0 errors in every scenario"]
    assert (verdict.verdict, verdict.measured) == (targets.NOT_MET, "list-1000 c10 2w: 3")
    assert _verdicts(clean, batch=1)["0 errors in every scenario"].verdict == targets.NOT_MET


def test_a_ratio_needs_both_sides_of_one_run() -> None:
    name = "create >= 0.90 x create@base, 1 worker"
    assert _verdicts([_result("create", 1, 900)])[name].verdict == targets.NOT_RUN
    verdicts = _verdicts([_result("create", 1, 880), _result("create@base", 1, 1_000)])
    assert (verdicts[name].verdict, verdicts[name].measured) == (targets.NOT_MET, "0.88")
