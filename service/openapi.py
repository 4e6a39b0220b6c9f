"""The OpenAPI document, completed where Litestar's generator cannot say what the service does.

Litestar builds the document from the handlers and structs. This module adds, once at start-up and on
the very document Litestar caches and serves (JSON and Swagger UI alike): every status each route can
answer with its headers and examples (`service.examples`), the body rules the decoder enforces
(unknown fields, trimmed lengths, timestamps, the status/completed agreement), the header syntax, and
the version from pyproject.toml. Each rule below mirrors a check in `service.schemas`, `service.body`
or `service.tasks`; the fuzz test (schemathesis) fails when the two disagree.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar

from service import examples
from service.errors import ErrorBody
from service.feed import MAX_LIMIT as FEED_MAX_LIMIT
from service.listing import MAX_QUERY
from service.schemas import MAX_DESCRIPTION, MAX_TAG, MAX_TITLE
from service.tasks import IDEMPOTENCY_KEY

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
TASKS = "/api/{user_id}/tasks"
TASK = TASKS + "/{task_id}"
COMPLETE = TASK + "/complete"

# What each operation answers besides its success statuses: (examples.SUCCESS key, error statuses); an
# error status may name a variant of its examples.ERRORS entry after a dash ("429-events").
_API_ERRORS = ("401", "403", "429", "500", "503")
_BODY_ERRORS = ("413", "415", "422")
_WRITE_ERRORS = ("404", "412", *_BODY_ERRORS)
ROUTES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (TASKS, "get"): ("list", ("422", *_API_ERRORS)),
    (TASKS + "/changes", "get"): ("changes", ("410", "422-changes", *_API_ERRORS)),
    (TASKS, "post"): ("post", ("404", "409", *_BODY_ERRORS, *_API_ERRORS)),
    (TASK, "get"): ("get", ("404", *_API_ERRORS)),
    (TASK, "put"): ("write", (*_WRITE_ERRORS, *_API_ERRORS)),
    (TASK, "patch"): ("write", (*_WRITE_ERRORS, *_API_ERRORS)),
    (COMPLETE, "patch"): ("write", (*_WRITE_ERRORS, *_API_ERRORS)),
    (TASK + "/move", "post"): ("write", (*_WRITE_ERRORS, *_API_ERRORS)),
    (TASKS + "/batch", "post"): ("batch", ("409-batch", *_BODY_ERRORS, *_API_ERRORS)),
    (TASK, "delete"): ("delete", ("404", "412", "422", *_API_ERRORS)),
    ("/api/{user_id}/events", "get"): ("events", ("429-events", *(s for s in _API_ERRORS if s != "429"))),
    ("/health", "get"): ("health", ()),
    ("/health/ready", "get"): ("ready", ()),
    ("/metrics", "get"): ("metrics", ()),
}

# -- body and header rules, as JSON Schema -----------------------------------------------------

# str.strip() removes exactly the characters for which str.isspace() is true, which are these.
SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def trimmed(max_length: int, *, blank: bool = False) -> str:
    """No NUL, and 1 (0 when `blank`) to `max_length` characters once outer whitespace is trimmed."""
    edge = rf"[^\x00{SPACE}]"
    core = rf"{edge}(?:[^\x00]{{0,{max_length - 2}}}{edge})?"
    return rf"^[{SPACE}]*{f'(?:{core})?' if blank else core}[{SPACE}]*$"


_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DATE = _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
# The range's first and last day are left to the description: there the offset decides (0001-01-01T00:30:00+01:00
# is before year 1 in UTC), which a pattern could only say by listing every offset against every time of day.
IN_RANGE = "strictly between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in UTC"
TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "pattern": rf"^{_DATE}[Tt]{_TIME}{_OFFSET}$",
    "description": f"RFC 3339 timestamp with an offset, {IN_RANGE}",
}

FIELD_RULES: dict[str, dict[str, Any]] = {
    "title": {"pattern": trimmed(MAX_TITLE)},
    "description": {"pattern": trimmed(MAX_DESCRIPTION, blank=True)},
    "tags": {"items": {"type": "string", "pattern": trimmed(MAX_TAG)}},
    "due_date": {
        "pattern": TIMESTAMP["pattern"],
        "format": "date-time",
        "description": f"RFC 3339 timestamp with an offset, {IN_RANGE}; stored and returned in UTC",
    },
}
# `completed` and `status` must agree when both are sent.
AGREEMENT = {
    "anyOf": [
        {"not": {"required": ["status", "completed"]}},
        {"properties": {"status": {"const": "completed"}, "completed": {"const": True}}},
        {"properties": {"status": {"enum": ["pending", "in_progress"]}, "completed": {"const": False}}},
    ]
}
# What no JSON Schema keyword states: the rule's cross-part checks, and the due date a recurrence needs.
RECURRENCE_RULES = (
    "How the task repeats; null: it does not. Needs a due_date (in the same body, or for PATCH the stored "
    "one). The rule takes each part at most once, COUNT or UNTIL but not both, BYDAY ordinals only with "
    "FREQ=MONTHLY, no BYMONTHDAY with FREQ=WEEKLY, and day filters some date can meet; case and an RRULE: "
    "prefix are ignored. A rule or zone the service refuses is a 422 naming the field."
)
HEADER_RULES: dict[str, dict[str, Any]] = {
    "Idempotency-Key": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
    # Any value is well-formed: `*` and `"<version>"` (or `W/"<version>"`) can match, anything else is 412.
    "If-Match": {"type": "string"},
    "If-None-Match": {"type": "string"},
    "Last-Event-ID": {"type": "string", "examples": [examples.EVENT_ID]},
}


QUERY_RULES: dict[tuple[str, str], dict[str, Any]] = {
    # The list's text filters, with the rules service.listing applies (trimmed tags; q not blank, no NUL).
    (TASKS, "tag"): {"type": "array", "items": {"type": "string", "pattern": trimmed(MAX_TAG)}},
    (TASKS, "q"): {"type": "string", "maxLength": MAX_QUERY, "pattern": rf"^[^\x00]*[^\x00{SPACE}][^\x00]*$"},
    # The due-date bounds are read as due_date is (service.schemas.parse_timestamp).
    (TASKS, "due_after"): {**TIMESTAMP, "examples": ["2026-03-01T00:00:00Z"]},
    (TASKS, "due_before"): {**TIMESTAMP, "examples": ["2026-03-01T00:00:00Z"]},
    (TASKS + "/changes", "limit"): {"type": "integer", "minimum": 1, "maximum": FEED_MAX_LIMIT, "examples": [100]},
    (TASKS + "/changes", "cursor"): {"type": "string"},
}


@cache
def version() -> str:
    """pyproject.toml's version: the one place it is written."""
    with PYPROJECT.open("rb") as file:
        project_version: str = tomllib.load(file)["project"]["version"]
    return project_version


# -- completing the document --------------------------------------------------------------------


def complete(app: Litestar) -> None:
    # provide_openapi_schema() builds the document once and caches this very dict, which every
    # render plugin serves; completing it in place completes every rendering.
    document: dict[str, Any] = app.plugins.get("OpenAPIPlugin").provide_openapi_schema()
    document["info"]["version"] = version()
    schemas = document["components"]["schemas"]
    # Error bodies come from exception handlers, which Litestar does not document.
    _, components = msgspec.json.schema_components([ErrorBody], ref_template="#/components/schemas/{name}")
    schemas.update(components)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                _complete_operation(path, method, operation, schemas)


def _complete_operation(path: str, method: str, operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    if (path, method) not in ROUTES:
        return  # left as Litestar made it; tests/api/test_openapi.py fails until ROUTES names it
    success, error_statuses = ROUTES[(path, method)]
    responses = dict(examples.SUCCESS[success])
    responses.update({status[:3]: examples.ERRORS[status] for status in error_statuses})
    operation["responses"] = dict(sorted(responses.items()))
    for parameter in operation.get("parameters", ()):
        _complete_parameter(path, parameter)
    if "requestBody" in operation and path != TASKS + "/batch":  # the batch's is complete (service.batch_docs)
        kind = {COMPLETE: "complete", TASK + "/move": "move"}.get(path, method)
        _complete_body(operation["requestBody"], kind, schemas)


def _complete_parameter(path: str, parameter: dict[str, Any]) -> None:
    if (rule := QUERY_RULES.get((path, parameter["name"]))) is not None and parameter["in"] == "query":
        parameter["schema"] = rule
    elif parameter["in"] == "header":
        parameter["schema"] = HEADER_RULES[parameter["name"]]
    elif parameter["in"] == "path" and parameter["name"] == "task_id":
        parameter["schema"] = {"type": "string", "format": "uuid", "examples": [examples.TASK["id"]]}


def _complete_body(body: dict[str, Any], kind: str, schemas: dict[str, Any]) -> None:
    media = body["content"]["application/json"]
    reference = _only(media["schema"])  # drops the `null` arm of an optional body: the service refuses null
    media["schema"] = reference
    media["examples"] = {s: {"summary": s, "value": v} for s, v in examples.REQUEST_BODIES[kind].items()}
    if kind == "complete":
        body["required"] = False  # no body at all is the usual call
    schema = schemas[reference["$ref"].rsplit("/", 1)[1]]
    schema["additionalProperties"] = False
    properties = schema["properties"]
    for name, field in list(properties.items()):
        properties[name] = {**_only(field, keep_null=True), **FIELD_RULES.get(name, {})}
    if "recurrence" in properties:
        _complete_recurrence(properties["recurrence"], schemas)
    if {"status", "completed"} <= properties.keys():
        schema.update(AGREEMENT)
    if kind == "patch":
        schema["minProperties"] = 1


def _complete_recurrence(field: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The recurrence object refuses unknown keys, as its struct does; `null` (no recurrence) stays allowed."""
    arms = field.get("oneOf", [field])
    for arm in arms:
        if "$ref" in arm:
            schemas[arm["$ref"].rsplit("/", 1)[1]]["additionalProperties"] = False
    if {"type": "null"} not in arms:  # Litestar drops the null of `Recurrence | UnsetType | None`
        field.clear()
        field["oneOf"] = [*arms, {"type": "null"}]
    field["description"] = RECURRENCE_RULES


def _only(schema: dict[str, Any], *, keep_null: bool = False) -> dict[str, Any]:
    """`X` for Litestar's `oneOf: [X]` (from `X | UNSET`) and `oneOf: [X, null]` of a body's top level
    (a field keeps its null arm: `keep_null`)."""
    arms = schema.get("oneOf")
    if arms is None:
        return schema
    rest = {k: v for k, v in schema.items() if k != "oneOf"}
    kept = [arm for arm in arms if arm != {"type": "null"}] if "$ref" in arms[0] and not keep_null else arms
    return {**kept[0], **rest} if len(kept) == 1 else schema
