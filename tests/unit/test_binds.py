"""The request structs make the binds of tasks/create and tasks/update; the gateway passes them on as they are."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from service.schemas import (
    DELETION,
    TOGGLE,
    TaskChange,
    TaskCompletion,
    TaskCreate,
    TaskPatch,
    TaskReplace,
)

DUE = datetime(2026, 3, 1, 17, tzinfo=UTC)


def decode(kind: type[Any], body: dict[str, Any]) -> Any:
    return msgspec.json.decode(msgspec.json.encode(body), type=kind)


def test_create_binds_every_field_and_the_completed_shorthand() -> None:
    data = decode(TaskCreate, {"title": " T ", "completed": True, "due_date": "2026-03-01T19:00:00+02:00"})
    assert data.binds() == ("T", None, "completed", "medium", DUE, [], None)
    assert decode(TaskCreate, {"title": "T"}).binds().status == "pending"


@pytest.mark.parametrize(
    ("body", "pair"),
    [
        ({}, ("pending", "pending")),
        ({"status": "in_progress"}, ("in_progress", "in_progress")),
        ({"completed": True}, ("completed", "completed")),
        ({"completed": False}, ("pending", None)),  # reopens a completed task, leaves any other alone
    ],
)
def test_replace_sets_every_field(body: dict[str, Any], pair: tuple[str | None, str | None]) -> None:
    change = decode(TaskReplace, {"title": "T", **body}).binds()
    assert (change.status_if_completed, change.status_otherwise) == pair
    assert change.set_description and change.set_due_date
    assert change.tags == [] and change.priority == "medium"


def test_patch_binds_only_what_was_sent() -> None:
    assert decode(TaskPatch, {"title": "T"}).binds() == TaskChange(title="T")
    cleared = decode(TaskPatch, {"description": None, "due_date": None}).binds()
    assert cleared == TaskChange(set_description=True, set_due_date=True)
    due = decode(TaskPatch, {"due_date": "2026-03-01T17:00:00Z", "completed": False}).binds()
    assert due == TaskChange(set_due_date=True, due_date=DUE, status_if_completed="pending")


def test_completion_toggles_or_sets() -> None:
    assert TaskCompletion().binds() == TOGGLE
    assert TaskCompletion(completed=True).binds() == TaskChange(
        status_if_completed="completed", status_otherwise="completed"
    )
    assert TaskCompletion(completed=False).binds() == TaskChange(status_if_completed="pending")
    assert DELETION.status_if_completed == DELETION.status_otherwise == "deleted"
