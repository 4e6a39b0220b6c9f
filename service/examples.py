"""What each route answers, as the OpenAPI document shows it: every status, its headers and an example.

Error examples are rendered by `service.errors` itself from its error classes, so a message changed
there changes here. The examples are plain JSON (Litestar's ResponseSpec drops every `null` from an
example, which would make the task and error examples fail their own schemas); `service.openapi`
puts them into the document.
"""

from __future__ import annotations

from typing import Any

import msgspec

from service import errors
from service.errors import FieldError, ServiceError

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
    "recurrence": None,
    "last_completed_at": None,
}
NEW_TASK = {
    "title": "Write the quarterly report",
    "description": "Numbers from finance first",
    "priority": "high",
    "due_date": "2026-03-01T17:00:00Z",
    "tags": ["work", "q1"],
}
REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "post": {"a new task": NEW_TASK},
    "put": {"every editable field": {**NEW_TASK, "status": "in_progress"}},
    "patch": {"start it": {"status": "in_progress"}, "clear the due date": {"due_date": None}},
    "complete": {"set it": {"completed": True}, "toggle": {}},
    "move": {
        "after a sibling": {"after_id": "9b2e4c1a-0d7f-4e8b-8a31-6c5d2f1e0a93"},
        "first under another parent": {"after_id": None, "parent_id": "5d1f7a2c-3b4e-4c6d-9e8f-0a1b2c3d4e5f"},
    },
}
EVENT_ID = "WzEyLG51bGwsbnVsbF0.c2lnbmF0dXJl"
EVENT_STREAM = (
    f'retry: 3000\r\n\r\nid: {EVENT_ID}\r\nevent: changed\r\ndata: {{"cursor":"{EVENT_ID}"}}\r\n\r\n: ping\r\n\r\n'
)
# One event of the stream (its `retry:` line and `: ping` comments carry no data, so are no events).
EVENT = {
    "type": "object",
    "required": ["event", "id", "data"],
    "properties": {
        "event": {"const": "changed"},
        "id": {"type": "string"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "type": "object",
                "required": ["cursor"],
                "properties": {"cursor": {"type": "string"}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
METRICS = (
    "# HELP tasks_requests_total HTTP requests, by route template and status\n"
    "# TYPE tasks_requests_total counter\n"
    'tasks_requests_total{method="GET",path="/api/{user_id}/tasks",status_code="200"} 42.0\n'
)

# -- headers ----------------------------------------------------------------------------------

_ETAG = {"description": 'The task\'s version, `"<version>"`', "schema": {"type": "string", "pattern": '^"[0-9]+"$'}}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the client's X-Request-ID when it sent a usable one); also in the logs",
        "schema": {"type": "string"},
    },
    "ETag": _ETAG,
    "Location": {"description": "The new task's URL", "schema": {"type": "string"}},
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WWW-Authenticate": {
        "description": "`Bearer`, with the reason when a token was sent",
        "schema": {"type": "string"},
    },
}


def _headers(*names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    chosen = {name: {**HEADERS[name], "required": True} for name in ("X-Request-ID", *names)}
    chosen.update({name: {**HEADERS[name], "required": False} for name in optional})
    return chosen


# -- error responses, rendered by the service's own error classes ---------------------------------


def error_example(error: ServiceError) -> dict[str, Any]:
    """The body the service sends for `error`, exactly."""
    body: dict[str, Any] = msgspec.json.decode(errors.error_response(error).content)
    return body


def _error(description: str, *examples: ServiceError, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _headers(*headers),
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorBody"},
                "examples": {
                    f"{e.code.lower()}-{n}": {"summary": e.message, "value": error_example(e)}
                    for n, e in enumerate(examples, 1)
                },
            }
        },
    }


INVALID = errors.ValidationFailed.of(
    [FieldError("title", "must not be blank"), FieldError("tags[3]", "must be at most 50 characters")]
)
ERRORS: dict[str, dict[str, Any]] = {
    "401": _error(
        "No token, or one that is expired, malformed or signed by an unknown key",
        errors.Unauthorized(token_given=False),
        errors.Unauthorized("The token has expired."),
        headers=("WWW-Authenticate",),
    ),
    "403": _error("The user in the path is not the user of the token", errors.Forbidden()),
    "404": _error("No such task for this user (also a malformed id)", errors.TaskNotFound()),
    "409": _error(
        "The Idempotency-Key was first used with another body, or the user already has a task with this id",
        errors.IdempotencyKeyReused(),
        errors.TaskExists(),
    ),
    "412": _error(
        "If-Match names another version of the task; ETag is the current one",
        errors.PreconditionFailed(4),
        headers=("ETag",),
    ),
    "413": _error("The body is larger than the service accepts", errors.PayloadTooLarge()),
    "415": _error("A body that is not application/json", errors.UnsupportedMediaType()),
    "422": _error("A parameter, header or body field is not valid; every bad field is listed", INVALID),
    "410": _error("The cursor is older than the kept history: sync again without one", errors.SyncCursorExpired()),
    "422-changes": _error(
        "A parameter is not valid, or the cursor is not a change-feed cursor of this user",
        errors.ValidationFailed.of(
            [FieldError("cursor", "is not a change-feed cursor for this user; start a full sync without it")]
        ),
    ),
    "429": _error("Too many requests for this user", errors.RateLimited(30), headers=("Retry-After",)),
    "429-events": _error(
        "Too many requests, or too many open event streams, for this user",
        errors.RateLimited(30),
        errors.TooManyStreams(),
        headers=("Retry-After",),
    ),
    "409-batch": _error(
        "An atomic batch aborted at a failed operation (nothing applied), or the Idempotency-Key was first used "
        "with another body",
        errors.BatchAborted(1, errors.TaskNotFound()),
        errors.IdempotencyKeyReused(),
    ),
    "500": _error("An unexpected failure, logged with the request id", errors.ServiceError()),
    "503": _error(
        "The database is unreachable or overloaded",
        errors.Unavailable(),
        errors.Unavailable("The database is not reachable.", {"database": "unreachable"}),
        headers=("Retry-After",),
    ),
}

# -- success responses ------------------------------------------------------------------------


def _json(description: str, schema: str, examples: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
    content = {
        "schema": {"$ref": f"#/components/schemas/{schema}"},
        "examples": {summary: {"summary": summary, "value": value} for summary, value in examples.items()},
    }
    return {"description": description, "headers": headers, "content": {"application/json": content}}


def _task(description: str, *headers: str) -> dict[str, Any]:
    return _json(description, "TaskEnvelope", {"a task": {"status": "success", "data": TASK}}, _headers(*headers))


_TOMBSTONE = {"id": "9b2e4c1a-0d7f-4e8b-8a31-6c5d2f1e0a93", "version": 4, "deleted_at": "2026-02-16T15:02:11.120394Z"}
_CHANGES = {
    "an incremental page": {
        "status": "success",
        "data": {"changed": [TASK], "deleted": [_TOMBSTONE]},
        "meta": {"next_cursor": "WzQyLG51bGwsbnVsbF0.q8V...", "has_more": False, "full_sync": False},
    },
    "a full sync, more to come": {
        "status": "success",
        "data": {"changed": [TASK], "deleted": []},
        "meta": {"next_cursor": "WzE3LCIzZjBjOWE4ZS0uLi4iLDQyXQ.Zt1...", "has_more": True, "full_sync": True},
    },
}
BATCH_ANSWER = {
    "status": "success",
    "data": [
        {"status": 201, "task": {**TASK, "title": "Buy milk", "tags": ["home"], "status": "pending", "version": 1}},
        {
            "status": 412,
            "error": {k: error_example(errors.PreconditionFailed(4))[k] for k in ("code", "message", "details")},
        },
        {"status": 200, "task": TASK},
        {"status": 204, "task": None},
    ],
}
_PAGE = {"status": "success", "data": [TASK], "meta": {"total": 1, "limit": 100, "next_cursor": None}}
_NO_BODY: dict[str, Any] = {"headers": _headers()}
SUCCESS: dict[str, dict[str, dict[str, Any]]] = {
    "list": {"200": _json("One page of tasks", "TaskListEnvelope", {"a page": _PAGE}, _headers())},
    "changes": {
        "200": _json(
            "One page of changes; follow meta.next_cursor while meta.has_more is true",
            "ChangesEnvelope",
            _CHANGES,
            _headers(),
        )
    },
    "post": {"201": _task("The new task (or, for a repeated Idempotency-Key, the first one)", "Location", "ETag")},
    "get": {
        "200": _task("The task", "ETag"),
        "304": {**_NO_BODY, "description": "If-None-Match names the current version", "headers": _headers("ETag")},
    },
    "write": {"200": _task("The task as it is now", "ETag")},
    "batch": {
        "200": _json(
            "One result per operation, in order (for a repeated Idempotency-Key, the first answer again)",
            "BatchEnvelope",
            {"a non-atomic batch with one failure": BATCH_ANSWER},
            _headers(),
        )
    },
    "delete": {"204": {**_NO_BODY, "description": "Deleted"}},
    "health": {
        "200": _json("The process answers", "Health", {"ok": {"status": "ok"}}, _headers()),
        "500": ERRORS["500"],
    },
    "ready": {
        "200": _json("The database answers", "Ready", {"ok": {"status": "ok", "database": "ok"}}, _headers()),
        "500": ERRORS["500"],
        "503": ERRORS["503"],
    },
    "events": {
        "200": {
            "description": "The event stream",
            "headers": _headers(),
            "content": {"text/event-stream": {"schema": EVENT, "example": EVENT_STREAM}},
        },
    },
    "metrics": {
        "200": {
            "description": "Prometheus text exposition format",
            "headers": _headers(),
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS}},
        },
        "500": ERRORS["500"],
    },
}
