"""OpenAPI examples: what each route answers, success and error, as a client will see it."""

from __future__ import annotations

from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from service.errors import ErrorBody
from service.feed import ChangesEnvelope
from service.schemas import TaskEnvelope, TaskListEnvelope

TASK: dict[str, Any] = {
    "id": "3f0c9a8e-6f3e-4a4b-9a52-5b1c0f7e2d11",
    "user_id": "user_2abc",
    "title": "Write the quarterly report",
    "description": "Numbers from finance first",
    "status": "in_progress",
    "priority": "high",
    "completed": False,
    "due_date": "2026-03-01T17:00:00Z",
    "tags": ["work", "q1"],
    "completed_at": None,
    "created_at": "2026-02-16T10:00:00Z",
    "updated_at": "2026-02-16T14:30:00Z",
    "version": 3,
    "parent_id": None,
    "position": "a3",
}


def _error(status: int, code: str, message: str, details: Any = None) -> tuple[int, ResponseSpec]:
    example = Example(summary=code, value={"status": "error", "code": code, "message": message, "details": details})
    return status, ResponseSpec(ErrorBody, description=message, examples=[example], generate_examples=False)


def _task(status: int, description: str) -> tuple[int, ResponseSpec]:
    example = Example(summary="a task", value={"status": "success", "data": TASK})
    return status, ResponseSpec(TaskEnvelope, description=description, examples=[example], generate_examples=False)


UNAUTHORIZED = _error(401, "UNAUTHORIZED", "The token has expired.")
FORBIDDEN = _error(403, "FORBIDDEN", "The user in the path is not the user of the token.")
NOT_FOUND = _error(404, "TASK_NOT_FOUND", "No such task for this user.")
PRECONDITION = _error(412, "PRECONDITION_FAILED", "The task has changed since that ETag; fetch it again and retry.")
INVALID = _error(
    422,
    "VALIDATION_ERROR",
    "The request is not valid; see details.errors.",
    {
        "errors": [
            {"field": "title", "message": "must not be blank"},
            {"field": "tags[3]", "message": "must be at most 50 characters"},
        ]
    },
)
TOO_MANY_STREAMS = _error(
    429, "TOO_MANY_STREAMS", "Too many open event streams for this user; close one, or retry after Retry-After seconds."
)
UNAVAILABLE = _error(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry shortly.")
COMMON = dict([UNAUTHORIZED, FORBIDDEN, UNAVAILABLE])

LIST_RESPONSES = {
    200: ResponseSpec(
        TaskListEnvelope,
        description="One page of tasks",
        generate_examples=False,
        examples=[
            Example(
                summary="a page",
                value={"status": "success", "data": [TASK], "meta": {"total": 1, "limit": 100, "next_cursor": None}},
            )
        ],
    ),
    **COMMON,
    **dict([INVALID]),
}
TASK_EXISTS = _error(
    409, "TASK_EXISTS", "This user already has a task with this id (perhaps deleted); choose another id."
)
CREATE_RESPONSES = {
    **dict([_task(201, "The new task; Location and ETag headers")]),
    **COMMON,
    **dict([TASK_EXISTS, INVALID]),
}
GET_RESPONSES = {**dict([_task(200, "The task; ETag header")]), **COMMON, **dict([NOT_FOUND])}
WRITE_RESPONSES = {
    **dict([_task(200, "The task as it is now; ETag header")]),
    **COMMON,
    **dict([NOT_FOUND, PRECONDITION, INVALID]),
}
DELETE_RESPONSES = {**COMMON, **dict([NOT_FOUND, PRECONDITION])}

CURSOR_EXPIRED = _error(
    410,
    "SYNC_CURSOR_EXPIRED",
    "This sync cursor is older than the kept history; drop the local copy and sync again without a cursor.",
)
BAD_CURSOR = _error(
    422,
    "VALIDATION_ERROR",
    "cursor: is not a change-feed cursor for this user; start a full sync without it",
    {
        "errors": [
            {"field": "cursor", "message": "is not a change-feed cursor for this user; start a full sync without it"}
        ]
    },
)
CHANGES_RESPONSES = {
    200: ResponseSpec(
        ChangesEnvelope,
        description="One page of changes; follow meta.next_cursor while meta.has_more is true",
        generate_examples=False,
        examples=[
            Example(
                summary="an incremental page",
                value={
                    "status": "success",
                    "data": {
                        "changed": [TASK],
                        "deleted": [
                            {
                                "id": "9b2e4c1a-0d7f-4e8b-8a31-6c5d2f1e0a93",
                                "version": 4,
                                "deleted_at": "2026-02-16T15:02:11.120394Z",
                            }
                        ],
                    },
                    "meta": {"next_cursor": "WzQyLG51bGwsbnVsbF0.q8V...", "has_more": False, "full_sync": False},
                },
            ),
            Example(
                summary="a full sync, more to come",
                value={
                    "status": "success",
                    "data": {"changed": [TASK], "deleted": []},
                    "meta": {
                        "next_cursor": "WzE3LCIzZjBjOWE4ZS0uLi4iLDQyXQ.Zt1...",
                        "has_more": True,
                        "full_sync": True,
                    },
                },
            ),
        ],
    ),
    **COMMON,
    **dict([CURSOR_EXPIRED, BAD_CURSOR]),
}
