"""with_next_due: only a completion of a recurring task gets a next due date, counted as tasks/update counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.completion import Locked, with_next_due
from service.schemas import DELETION, TOGGLE, TaskChange

DUE = datetime(2030, 1, 7, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
DAILY = '{"rule": "FREQ=DAILY;COUNT=3", "timezone": "UTC", "from": "due"}'


def locked(status: str = "pending", recurrence: str | None = DAILY, completions: int = 0) -> Locked:
    return Locked(status, DUE, recurrence, completions, NOW)


def test_a_completion_gets_the_next_occurrence() -> None:
    assert with_next_due(TOGGLE, locked()) == TOGGLE._replace(next_due=DUE + timedelta(days=1))


def test_the_last_completion_ends_it() -> None:
    assert with_next_due(TOGGLE, locked(completions=2)) == TOGGLE._replace(ends=True)


def test_a_new_rule_or_due_date_restarts_the_count() -> None:
    rule = TaskChange(status_otherwise="completed", set_recurrence=True, recurrence=DAILY.replace("3", "2"))
    assert with_next_due(rule, locked(completions=2)).next_due == DUE + timedelta(days=1)
    moved = TaskChange(status_otherwise="completed", set_due_date=True, due_date=DUE + timedelta(hours=1))
    assert with_next_due(moved, locked(completions=2)).next_due == DUE + timedelta(days=1, hours=1)
    same = TaskChange(status_otherwise="completed", set_recurrence=True, recurrence=DAILY)
    assert with_next_due(same, locked(completions=2)).ends


def test_anything_else_is_left_alone() -> None:
    assert with_next_due(DELETION, locked()) == DELETION
    assert with_next_due(TOGGLE, locked(status="completed")) == TOGGLE  # reopening
    assert with_next_due(TOGGLE, locked(recurrence=None)) == TOGGLE
    stop = TaskChange(status_otherwise="completed", set_recurrence=True, recurrence=None)
    assert with_next_due(stop, locked()) == stop
    no_due = TaskChange(status_otherwise="completed", set_due_date=True, due_date=None)
    assert with_next_due(no_due, locked()) == no_due
