"""Where a task goes among its siblings: what a placing write decides from the reads it made under the lock.

The reads (tasks/placement, tasks/move_target, tasks/siblings) either run in a transaction holding the
user's change-counter lock (sync/lock), or alone before a write that locks the counter and checks it has
not moved since (tasks/place), so what they saw stays true until the write: two writers can never pick
the same key for one gap. The keys themselves come from service/positions.py (tasks/create computes the
usual key after the last sibling itself).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service import positions
from service.errors import FieldError, ValidationFailed


def bad_parent() -> ValidationFailed:
    return _bad("parent_id", "must be one of your live top-level tasks, and not the task itself")


def has_subtasks() -> ValidationFailed:
    return _bad("parent_id", "cannot be set: this task has live subtasks (one level of nesting)")


def bad_after() -> ValidationFailed:
    return _bad("after_id", "must be another live task under the parent the task goes to, or null")


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed.of([FieldError(field, message)])


def new_parent_position(place: asyncpg.Record, parent_id: UUID | None, if_match: int | None) -> str | None:
    """From tasks/placement: the position after the new parent's last subtask, or None when the parent
    stays (or the task is missing or stale: tasks/update then answers 404 or 412 itself)."""
    version = place["version"]
    if version is None or (if_match is not None and if_match != version) or place["current_parent"] == parent_id:
        return None
    if not place["parent_ok"]:
        raise bad_parent()
    if parent_id is not None and place["has_subtasks"]:
        raise has_subtasks()
    return positions.between(place["last_position"], None)


def check_move(target: asyncpg.Record) -> None:
    """From tasks/move_target: 422 naming parent_id or after_id when the move breaks a rule."""
    if not target["parent_ok"]:
        raise bad_parent()
    if target["target"] is not None and target["has_subtasks"]:
        raise has_subtasks()
    if not target["after_ok"]:
        raise bad_after()


def key_between(after: str | None, following: str | None) -> str:
    """A key in the gap, or an over-long one when there is none (keys tied by a write outside the API),
    which makes the caller re-space the list."""
    try:
        return positions.between(after, following)
    except ValueError:
        return "z" * (positions.MAX_LENGTH + 1)


def respaced(siblings: list[UUID], task_id: UUID, after_id: UUID | None) -> tuple[list[UUID], list[str]]:
    """The sibling list (in order) with the task right after `after_id` (first when None), and a fresh,
    short key for each."""
    order = [sibling for sibling in siblings if sibling != task_id]
    order.insert(0 if after_id is None else order.index(after_id) + 1, task_id)
    return order, positions.spread(len(order))
