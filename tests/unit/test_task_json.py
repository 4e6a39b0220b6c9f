"""The JSON-text envelopes the read routes send mirror the structs the OpenAPI document shows, and a list page's
lines split into the page and the next cursor's task."""

from __future__ import annotations

import msgspec
import pytest

from service.feed import Changes, ChangesEnvelope, ChangesEnvelopeJson, ChangesJson
from service.schemas import Task, TaskEnvelope, TaskListEnvelope
from service.task_json import PageText, TaskJson, TaskListJson


@pytest.mark.parametrize(
    ("sent", "documented"),
    [
        (TaskJson, TaskEnvelope),
        (TaskListJson, TaskListEnvelope),
        (ChangesEnvelopeJson, ChangesEnvelope),
        (ChangesJson, Changes),
    ],
)
def test_each_sent_envelope_has_the_documented_fields_in_order(sent: type, documented: type) -> None:
    fields = msgspec.structs.fields
    assert [(f.name, f.encode_name, f.default) for f in fields(sent)] == [
        (f.name, f.encode_name, f.default) for f in fields(documented)
    ]


def _task(n: int) -> str:
    return (
        f'{{"id":"00000000-0000-0000-0000-00000000000{n}","user_id":"u","title":"t{n}","description":null,'
        '"status":"pending","priority":"low","completed":false,"due_date":null,"tags":[],"completed_at":null,'
        '"created_at":"2026-03-01T17:00:00Z","updated_at":"2026-03-01T17:00:00Z","version":1,"parent_id":null,'
        '"position":"a0","recurrence":null,"last_completed_at":null}'
    )


def test_a_page_without_a_next_one_is_every_line() -> None:
    lines = "\n".join(map(_task, (1, 2)))
    tasks, last = PageText(lines, 2, 7).split(2)
    assert last is None
    assert bytes(tasks) == f"[{_task(1)},{_task(2)}]".encode()


def test_the_line_beyond_the_page_is_left_out_and_the_last_one_keys_the_cursor() -> None:
    lines = "\n".join(map(_task, (1, 2, 3)))
    tasks, last = PageText(lines, 3, 7).split(2)
    assert bytes(tasks) == f"[{_task(1)},{_task(2)}]".encode()
    assert isinstance(last, Task) and last.title == "t2"
    tasks, last = PageText("\n".join(map(_task, (1, 2))), 2, 7).split(1)
    assert bytes(tasks) == f"[{_task(1)}]".encode() and last is not None and last.title == "t1"


def test_an_empty_page() -> None:
    tasks, last = PageText("", 0, 0).split(100)
    assert (bytes(tasks), last) == (b"[]", None)
