"""The list query of GET /api/{user_id}/tasks: its parameters, parsed and documented from one table.

Every bad parameter is named in one 422. Each parameter's row holds its parser and its OpenAPI schema,
so the documentation says exactly what the parser takes. The SQL the query picks is in list_sql.py,
the cursor that carries it across pages in cursors.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args
from uuid import UUID

import msgspec
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Operation, Parameter, Schema

from service import query_string
from service.errors import FieldError, ValidationFailed
from service.list_sql import DEFAULT_SORT, SORTS, given_of
from service.schemas import MAX_TAG, Priority, Status, clean_tag, parse_timestamp

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_QUERY = 200
MAX_CURSOR = 1024


@dataclass(frozen=True, slots=True)
class ListQuery:
    statuses: list[str] | None = None
    priorities: list[str] | None = None
    tags: list[str] | None = None
    q: str | None = None
    due_after: datetime | None = None
    due_before: datetime | None = None
    parent_id: UUID | None = None  # parent_id=<uuid>
    top_level: bool | None = None  # parent_id=none
    sort: str = DEFAULT_SORT
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    # Set once the cursor verified: where the previous page ended.
    after: tuple[Any, UUID] | None = field(default=None)

    def filters(self) -> tuple[Any, ...]:
        """Bind parameters $2..$9 of tasks/list, shared by its page and its total."""
        return (
            self.statuses,
            self.priorities,
            self.tags,
            self.q,
            self.due_after,
            self.due_before,
            self.parent_id,
            self.top_level,
        )

    def given(self) -> frozenset[str]:
        """The filters this query has: they pick the conditions of the statement."""
        return given_of(self.filters())

    def fingerprint(self) -> bytes:
        """The normalised filters and sort a cursor is bound to (limit may change between pages)."""
        normal: list[Any] = [
            sorted(self.statuses) if self.statuses is not None else None,
            sorted(self.priorities) if self.priorities is not None else None,
            sorted(self.tags) if self.tags is not None else None,
            self.q,
            iso(self.due_after),
            iso(self.due_before),
            self.sort,
        ]
        if self.parent_id is not None or self.top_level is not None:  # cursors made without them stay valid
            normal += [None if self.parent_id is None else str(self.parent_id), self.top_level]
        return msgspec.json.encode(normal)


# -- one row per parameter: its parser and its schema ------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    parse: Callable[[Any], Any]  # the raw value (every value, for a repeatable one) -> the parsed one
    schema: Schema
    description: str
    repeatable: bool = False


def _csv(values: tuple[str, ...]) -> tuple[Callable[[str], list[str]], Schema]:
    """A comma-separated list of `values` (spaces around items allowed), checked by the pattern OpenAPI shows."""
    item = f" *(?:{'|'.join(values)}) *"
    pattern = f"^{item}(?:,{item})*$"
    regex = re.compile(pattern)

    def parse(raw: str) -> list[str]:
        if not regex.fullmatch(raw):
            raise ValueError("must be a comma-separated list of: " + ", ".join(values))
        return sorted({item.strip(" ") for item in raw.split(",")})

    return parse, Schema(type=OpenAPIType.STRING, pattern=pattern, examples=[",".join(values[:2])])


def _bool(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError("must be true or false")
    return raw == "true"


def _tags(raw: list[str]) -> list[str]:
    return sorted({clean_tag(value) for value in raw})


def _q(raw: str) -> str:
    if "\x00" in raw:
        raise ValueError("must not contain a NUL character")
    if not raw.strip() or len(raw) > MAX_QUERY:
        raise ValueError(f"must be 1 to {MAX_QUERY} characters")
    return raw.lower()


def _limit(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValueError(f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _sort(raw: str) -> str:
    if raw not in SORTS:
        raise ValueError("must be one of: " + ", ".join(SORTS))
    return raw


TOP_LEVEL = "none"
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PARENT = re.compile(_UUID)


def _parent(raw: str) -> UUID | str:
    """A task id (hyphenated, as the API writes ids), or `none` for top-level tasks."""
    if raw == TOP_LEVEL:
        return TOP_LEVEL
    if not _PARENT.fullmatch(raw):
        raise ValueError("must be a task id (a UUID) or none")
    return UUID(raw)


def _cursor(raw: str) -> str:
    if not raw or len(raw) > MAX_CURSOR:
        raise ValueError("is not a cursor from this API")
    return raw


STATUSES: tuple[str, ...] = get_args(Status)
PRIORITIES: tuple[str, ...] = get_args(Priority)
_TIMESTAMP = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME, examples=["2026-03-01T00:00:00Z"])
_TAGS = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_TAG))
_Q = Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_QUERY)
_PARENT_ID = Schema(
    one_of=[Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID), Schema(type=OpenAPIType.STRING, enum=["none"])],
    examples=["none"],
)
_SORT = Schema(type=OpenAPIType.STRING, enum=list(SORTS), default=DEFAULT_SORT)
_LIMIT = Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
_CURSOR = Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_CURSOR)

PARAMS = {
    param.name: param
    for param in (
        QueryParam("status", *_csv(STATUSES), "comma-separated statuses; a task matches any of them"),
        QueryParam("priority", *_csv(PRIORITIES), "comma-separated priorities; a task matches any of them"),
        QueryParam("completed", _bool, Schema(type=OpenAPIType.BOOLEAN), "true: completed tasks; false: the others"),
        QueryParam("tag", _tags, _TAGS, "repeatable; the task has every tag given (case-insensitive)", True),
        QueryParam("q", _q, _Q, "case-insensitive substring of title or description; not blank"),
        QueryParam("due_after", parse_timestamp, _TIMESTAMP, "RFC 3339 with an offset; due_after <= due_date"),
        QueryParam("due_before", parse_timestamp, _TIMESTAMP, "RFC 3339 with an offset; due_date < due_before"),
        QueryParam("parent_id", _parent, _PARENT_ID, "a task's id: its live subtasks; none: top-level tasks only"),
        QueryParam(
            "sort",
            _sort,
            _SORT,
            "a field, `-` first for descending; ties by id; no due date sorts last; position: "
            "siblings in the order users arranged them",
        ),
        QueryParam("limit", _limit, _LIMIT, "tasks per page"),
        QueryParam("cursor", _cursor, _CURSOR, "meta.next_cursor of the previous page, for the same filters and sort"),
    )
}

PARAMETERS = [
    Parameter(p.name, ParamType.QUERY, schema=p.schema, description=p.description, required=False)
    for p in PARAMS.values()
]


@dataclass
class ListOperation(Operation):
    """The list route's OpenAPI operation: the handler declares no query arguments (it parses the raw
    query string), so its parameters come from the table above."""

    def __post_init__(self) -> None:
        self.parameters = [*(self.parameters or []), *PARAMETERS]


# -- parsing ------------------------------------------------------------------------------------


def parse_list_query(raw: bytes) -> ListQuery:
    """The raw query string as a ListQuery, or one 422 naming every bad parameter."""
    pairs, errors = query_string.pairs(raw)
    given: dict[str, list[str]] = {}
    for name, value in pairs:
        given.setdefault(name, []).append(value)
    values: dict[str, Any] = {}
    for name, raw_values in given.items():
        param = PARAMS.get(name)
        if param is None:
            errors.append(FieldError(name, "is not a known query parameter"))
        elif not param.repeatable and len(raw_values) > 1:
            errors.append(FieldError(name, "must be given at most once"))
        else:
            try:
                values[name] = param.parse(raw_values if param.repeatable else raw_values[0])
            except ValueError as error:
                errors.append(FieldError(name, str(error)))
    if errors:
        raise ValidationFailed.of(errors)
    return ListQuery(
        statuses=_intersect_completed(values.get("status"), values.get("completed")),
        priorities=values.get("priority"),
        tags=values.get("tag"),
        q=values.get("q"),
        due_after=values.get("due_after"),
        due_before=values.get("due_before"),
        parent_id=values["parent_id"] if isinstance(values.get("parent_id"), UUID) else None,
        top_level=True if values.get("parent_id") == TOP_LEVEL else None,
        sort=values.get("sort", DEFAULT_SORT),
        limit=values.get("limit", DEFAULT_LIMIT),
        cursor=values.get("cursor"),
    )


def _intersect_completed(statuses: list[str] | None, completed: bool | None) -> list[str] | None:
    """`completed` is a status filter too; both given means tasks that satisfy both."""
    if completed is None:
        return statuses
    wanted = {"completed"} if completed else set(STATUSES) - {"completed"}
    return sorted(wanted if statuses is None else wanted.intersection(statuses))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
