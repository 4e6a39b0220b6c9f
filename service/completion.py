"""What completing a recurring task writes, computed from the task as the write's transaction locked it.

tasks/update decides everything else in SQL; only the next occurrence needs Python (dateutil). The
rules here mirror the statement's: the same status pair, the same "a new rule or due date restarts
COUNT", so the two never disagree about whether a write completes the task.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import msgspec

from service.recurrence import Recurrence, next_due
from service.schemas import TaskChange

_RECURRENCE = msgspec.json.Decoder(Recurrence)


class Locked(NamedTuple):
    """tasks/lock's row."""

    status: str
    due_date: datetime | None
    recurrence: str | None  # jsonb as JSON text
    completions: int
    now: datetime


def with_next_due(change: TaskChange, task: Locked) -> TaskChange:
    """The change, plus where a recurring task goes when this change completes it."""
    asked = change.status_if_completed if task.status == "completed" else change.status_otherwise
    rule_text = change.recurrence if change.set_recurrence else task.recurrence
    due = change.due_date if change.set_due_date else task.due_date
    if (asked or task.status) != "completed" or task.status == "completed" or rule_text is None or due is None:
        return change  # not a completion of a recurring task (or one without a due date: tasks/update says 422)
    rule = _RECURRENCE.decode(rule_text)
    restarts = due != task.due_date or (
        change.set_recurrence and (task.recurrence is None or rule != _RECURRENCE.decode(task.recurrence))
    )
    following = next_due(rule, due, 0 if restarts else task.completions, task.now)
    return change._replace(next_due=following, ends=following is None)
