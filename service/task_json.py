"""The read routes' bodies, from the JSON text PostgreSQL writes for each task (sql/fragments/task_json.sql).

Turning every row into Python objects and encoding them again was most of what a list page cost: the
driver's datetimes and UUIDs, a Task per row, msgspec's encoder, and the garbage collector chasing all of
them. The read statements return each task as exactly the JSON msgspec writes for service.schemas.Task, and
msgspec.Raw puts that text into the envelope as is. The envelopes below mirror TaskEnvelope,
TaskListEnvelope and ChangesEnvelope field for field (tests/unit/test_task_json.py holds them together);
those stay the schemas of the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec
from litestar import Response
from litestar.status_codes import HTTP_200_OK

from service.schemas import ListMeta, Task

_TASK = msgspec.json.Decoder(Task)


class TaskText(NamedTuple):
    """One task as tasks/get reads it (its columns, in order): its version (the ETag) and its JSON."""

    version: int
    task: str


class PageText(NamedTuple):
    """A list page as tasks/list reads it (its columns, in order): the tasks' JSON one a line (a JSON text
    holds no raw line feed), one task more than the page when another page follows, and the total."""

    tasks: str
    fetched: int
    total: int

    def split(self, limit: int) -> tuple[msgspec.Raw, Task | None]:
        """The page as a JSON array, and its last task when another page follows (the next cursor's key)."""
        lines = self.tasks
        if self.fetched <= limit:
            return array(lines), None
        lines = lines[: lines.rindex("\n")]  # the task beyond the page only tells that another one follows
        return array(lines), _TASK.decode(lines[lines.rfind("\n") + 1 :])


def array(lines: str) -> msgspec.Raw:
    """JSON objects one a line, as one JSON array."""
    return msgspec.Raw("[" + lines.replace("\n", ",") + "]")


class TaskJson(msgspec.Struct, frozen=True, kw_only=True):
    """schemas.TaskEnvelope with its task as JSON text."""

    status: str = "success"
    data: msgspec.Raw


class TaskListJson(msgspec.Struct, frozen=True, kw_only=True):
    """schemas.TaskListEnvelope with its tasks as one JSON text."""

    status: str = "success"
    data: msgspec.Raw
    meta: ListMeta


def json_response(body: msgspec.Struct, headers: dict[str, str] | None = None) -> Response[Any]:
    """A 200 with a body the handler's annotation documents (the envelope above mirrors it)."""
    return Response(body, status_code=HTTP_200_OK, headers=headers)
