"""The list query of GET /api/{user_id}/tasks: filters, sort, limit and a signed keyset cursor.

Every bad parameter is named in one 422. The SQL varies only by sort: each sort has a fixed pair of
fragments (keyset condition, ORDER BY) below, reviewed here once; request text only ever travels as
bind parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar.datastructures import MultiDict

from service.errors import FieldError, ValidationFailed
from service.schemas import MAX_TAG, Task, parse_timestamp

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_QUERY = 200
STATUSES = ("pending", "in_progress", "completed")
PRIORITIES = ("low", "medium", "high")
PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2}
SINGLE = frozenset({"status", "priority", "completed", "q", "due_after", "due_before", "sort", "limit", "cursor"})
REPEATABLE = frozenset({"tag"})


@dataclass(frozen=True, slots=True)
class Sort:
    """One sort order: the task field it reads, and the SQL fragments for tasks/list."""

    key: str
    descending: bool
    after: str  # keyset condition: strictly after ($8 key, $9 id) in this order
    order: str
    first: str  # the first page: $8 and $9 are null (typed, so the statement still prepares)


def _plain(column: str, cast: str, descending: bool) -> tuple[str, str]:
    op, direction = ("<", "DESC") if descending else (">", "ASC")
    key = f"$8::{cast}"
    if column.startswith("(lower(title)"):
        # The cursor carries the title itself: PostgreSQL lower-cases both sides, so the keyset
        # compares exactly what ORDER BY sorts by (Python's str.lower differs for some letters).
        key = '(lower($8::text) COLLATE "C")'
    return f"({column}, id) {op} ({key}, $9::uuid)", f"{column} {direction}, id {direction}"


_CASTS = {"created_at": "timestamptz", "updated_at": "timestamptz", "due_date": "timestamptz"}


def _due_date(descending: bool) -> tuple[str, str]:
    """No due date sorts last both ways: it counts as +infinity ascending and -infinity descending."""
    op, direction, last = ("<", "DESC", "-infinity") if descending else (">", "ASC", "infinity")
    key = f"coalesce(due_date, '{last}'::timestamptz)"
    after = f"({key}, id) {op} (coalesce($8::timestamptz, '{last}'::timestamptz), $9::uuid)"
    return after, f"{key} {direction}, id {direction}"


_COLUMNS = {
    "created_at": ("created_at", "timestamptz"),
    "updated_at": ("updated_at", "timestamptz"),
    "priority": ("priority_rank", "smallint"),
    "title": ('(lower(title) COLLATE "C")', "text"),
}


def _sorts() -> dict[str, Sort]:
    sorts = {}
    for key in ("created_at", "updated_at", "due_date", "priority", "title"):
        for descending in (False, True):
            if key == "due_date":
                after, order = _due_date(descending)
            else:
                after, order = _plain(*_COLUMNS[key], descending)
            cast = _CASTS.get(key) or _COLUMNS[key][1]
            first = f"($8::{cast} IS NULL AND $9::uuid IS NULL)"
            sorts[("-" if descending else "") + key] = Sort(key, descending, after, order, first)
    return sorts


SORTS = _sorts()
DEFAULT_SORT = "-created_at"


def sort_key(sort: Sort, task: Task) -> Any:
    """The value the SQL orders by, as a bind parameter for the next page's keyset condition."""
    if sort.key == "priority":
        return PRIORITY_RANK[task.priority]
    value: Any = getattr(task, sort.key)
    return value


# Each filter: its condition when given, and when absent a test of its parameter alone. PostgreSQL
# runs a condition on parameters alone once, as a gate, so even a generic plan keeps the index
# conditions of the filters that are given (an `$2 IS NULL OR status = ANY ($2)` would hide them).
FILTERS: dict[str, tuple[str, str]] = {
    "statuses": ("status = ANY ($2::text[])", "$2::text[] IS NULL"),
    "priorities": ("priority = ANY ($3::text[])", "$3::text[] IS NULL"),
    "tags": ("tags @> $4::text[]", "$4::text[] IS NULL"),
    "q": ("(strpos(lower(title), $5::text) > 0 OR strpos(lower(description), $5::text) > 0)", "$5::text IS NULL"),
    "due_after": ("due_date >= $6::timestamptz", "$6::timestamptz IS NULL"),
    "due_before": ("due_date < $7::timestamptz", "$7::timestamptz IS NULL"),
}


def render(template: str, given: frozenset[str], sort: Sort | None = None, *, first_page: bool = True) -> str:
    """A list or count template with its fragments filled in: only ever the reviewed constants above."""
    conditions = "\n  AND ".join(FILTERS[name][0 if name in given else 1] for name in FILTERS)
    text = template.replace("{filters}", conditions)
    if sort is not None:
        text = text.replace("{after}", sort.first if first_page else sort.after).replace("{order}", sort.order)
    return text


def every_rendering(template: str) -> dict[str, str]:
    """Each shape the template can take, labelled (all sorts and pages; no filter, each filter, all filters)."""
    filter_sets = {"no filter": frozenset(), "all filters": frozenset(FILTERS)}
    filter_sets.update({name: frozenset({name}) for name in FILTERS})
    if "{order}" not in template:
        return {label: render(template, given) for label, given in filter_sets.items()}
    return {
        f"{name} {'first' if first else 'next'} [{label}]": render(template, given, sort, first_page=first)
        for name, sort in SORTS.items()
        for first in (True, False)
        for label, given in filter_sets.items()
    }


@dataclass(frozen=True, slots=True)
class ListQuery:
    statuses: list[str] | None = None
    priorities: list[str] | None = None
    tags: list[str] | None = None
    q: str | None = None
    due_after: datetime | None = None
    due_before: datetime | None = None
    sort: str = DEFAULT_SORT
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    # Set once the cursor verified: where the previous page ended.
    after: tuple[Any, UUID] | None = field(default=None)

    def filters(self) -> tuple[Any, ...]:
        """Bind parameters $2..$7, shared by tasks/list and tasks/count."""
        return (self.statuses, self.priorities, self.tags, self.q, self.due_after, self.due_before)

    def given(self) -> frozenset[str]:
        """The filters this query has: they pick the conditions of the statement."""
        return given_of(self.filters())

    def fingerprint(self) -> bytes:
        """The normalised filters and sort a cursor is bound to (limit may change between pages)."""
        normal = [
            sorted(self.statuses) if self.statuses is not None else None,
            sorted(self.priorities) if self.priorities is not None else None,
            sorted(self.tags) if self.tags is not None else None,
            self.q,
            iso(self.due_after),
            iso(self.due_before),
            self.sort,
        ]
        return msgspec.json.encode(normal)


def given_of(filters: tuple[Any, ...]) -> frozenset[str]:
    """The names of the filters whose parameters ($2..$7, in order) are set."""
    return frozenset(name for name, value in zip(FILTERS, filters, strict=True) if value is not None)


# -- parsing ------------------------------------------------------------------------------------


def parse_list_query(params: MultiDict[str]) -> ListQuery:
    errors: list[FieldError] = []
    for name in params:
        if name not in SINGLE and name not in REPEATABLE:
            errors.append(FieldError(name, "is not a known query parameter"))
        elif name in SINGLE and len(params.getall(name)) > 1:
            errors.append(FieldError(name, "must be given at most once"))
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        raw = params.getall(name, [])
        if not raw or (name in SINGLE and len(raw) > 1):
            continue
        try:
            values[name] = parse(raw if name in REPEATABLE else raw[0])
        except ValueError as error:
            errors.append(FieldError(name, str(error)))
    if errors:
        raise ValidationFailed.of(errors)
    statuses = _intersect_completed(values.pop("status", None), values.pop("completed", None))
    renamed = {_FIELD_OF.get(name, name): value for name, value in values.items()}
    return ListQuery(statuses=statuses, **renamed)


def _csv(allowed: tuple[str, ...]) -> Any:
    def parse(raw: str) -> list[str]:
        items = [item.strip() for item in raw.split(",")]
        if not all(items) or any(item not in allowed for item in items):
            raise ValueError("must be a comma-separated list of: " + ", ".join(allowed))
        return sorted(set(items))

    return parse


def _bool(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError("must be true or false")
    return raw == "true"


def _tags(raw: list[str]) -> list[str]:
    tags = []
    for value in raw:
        tag = value.strip().lower()
        if not tag or len(tag) > MAX_TAG or "\x00" in tag:
            raise ValueError(f"must be 1 to {MAX_TAG} characters")
        tags.append(tag)
    return sorted(set(tags))


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


def _cursor(raw: str) -> str:
    if not raw or len(raw) > 1024:
        raise ValueError("is not a cursor from this API")
    return raw


_FIELD_OF = {"priority": "priorities", "tag": "tags"}
_PARSERS: dict[str, Any] = {
    "status": _csv(STATUSES),
    "priority": _csv(PRIORITIES),
    "completed": _bool,
    "tag": _tags,
    "q": _q,
    "due_after": parse_timestamp,
    "due_before": parse_timestamp,
    "sort": _sort,
    "limit": _limit,
    "cursor": _cursor,
}


def _intersect_completed(statuses: list[str] | None, completed: bool | None) -> list[str] | None:
    """`completed` is a status filter too; both given means tasks that satisfy both."""
    if completed is None:
        return statuses
    wanted = {"completed"} if completed else {"pending", "in_progress"}
    return sorted(wanted if statuses is None else wanted.intersection(statuses))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
