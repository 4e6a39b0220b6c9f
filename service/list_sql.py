"""The SQL fragments of tasks/list: a condition per filter, a keyset pair per sort.

The statements vary only by these fixed, reviewed fragments; request text only ever travels as bind
parameters. Each filter's parameter has a fixed number ($2..$9), the keyset position is $10 (key)
and $11 (id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from service.schemas import Priority, Task

PRIORITY_RANK = {priority: rank for rank, priority in enumerate(get_args(Priority))}  # as tasks.priority_rank

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
    "parent_id": ("parent_id = $8::uuid", "$8::uuid IS NULL"),
    "top_level": ("parent_id IS NULL AND $9::boolean", "$9::boolean IS NULL"),
}


@dataclass(frozen=True, slots=True)
class Column:
    """What a sort orders by, and the same expression over the cursor's key ($10), so both compare alike;
    `{last}` is the value that sorts last in the page's direction (no due date comes last both ways)."""

    expression: str
    key: str
    cast: str  # the type of $10
    value: Any  # the key's Python type, as a cursor carries it


# The title key is the title itself: PostgreSQL lower-cases both sides, so the keyset compares exactly
# what ORDER BY sorts by (Python's str.lower differs for some letters).
_DUE = "coalesce({}, '{{last}}'::timestamptz)"
# position is COLLATE "C" in the table, so it and the key compare byte-wise, as clients compare them.
_COLUMNS = {
    "created_at": Column("created_at", "$10::timestamptz", "timestamptz", datetime),
    "updated_at": Column("updated_at", "$10::timestamptz", "timestamptz", datetime),
    "due_date": Column(_DUE.format("due_date"), _DUE.format("$10::timestamptz"), "timestamptz", datetime | None),
    "priority": Column("priority_rank", "$10::smallint", "smallint", int),
    "title": Column('(lower(title) COLLATE "C")', '(lower($10::text) COLLATE "C")', "text", str),
    "position": Column("position", "$10::text", "text", str),
}


@dataclass(frozen=True, slots=True)
class Sort:
    """One sort order: the task field it reads, and the SQL fragments for tasks/list."""

    key: str
    descending: bool
    key_type: Any
    after: str  # keyset condition: strictly after ($10 key, $11 id) in this order
    order: str
    first: str  # the first page: $10 and $11 are null (typed, so the statement still prepares)
    page_key: str  # the expression the page is ordered by, selected as `page_key`
    page_order: str  # the same order over the page's rows, for the aggregate that joins them


def _sort(key: str, descending: bool) -> Sort:
    column = _COLUMNS[key]
    op, direction, last = ("<", "DESC", "-infinity") if descending else (">", "ASC", "infinity")
    expression, bound = column.expression.replace("{last}", last), column.key.replace("{last}", last)
    return Sort(
        key=key,
        descending=descending,
        key_type=column.value,
        after=f"({expression}, id) {op} ({bound}, $11::uuid)",
        order=f"{expression} {direction}, id {direction}",
        first=f"($10::{column.cast} IS NULL AND $11::uuid IS NULL)",
        page_key=expression,
        # Over the ordered page's own columns, so PostgreSQL sees the rows arrive in this order already.
        page_order=f"task.page_key {direction}, task.id {direction}",
    )


SORTS = {("-" if descending else "") + key: _sort(key, descending) for key in _COLUMNS for descending in (False, True)}
DEFAULT_SORT = "-created_at"


def sort_key(sort: Sort, task: Task) -> Any:
    """The value the SQL orders by, as a bind parameter for the next page's keyset condition."""
    if sort.key == "priority":
        return PRIORITY_RANK[task.priority]
    value: Any = getattr(task, sort.key)
    return value


def given_of(filters: tuple[Any, ...]) -> frozenset[str]:
    """The names of the filters whose parameters ($2..$9, in order) are set."""
    return frozenset(name for name, value in zip(FILTERS, filters, strict=True) if value is not None)


_SLOT = re.compile(r"\{\w+\}")


def render(template: str, given: frozenset[str], sort: Sort | None = None, *, first_page: bool = True) -> str:
    """A list template with its slots filled in: only ever the reviewed constants above."""
    conditions = "\n  AND ".join(FILTERS[name][0 if name in given else 1] for name in FILTERS)
    text = template.replace("{filters}", conditions)
    if sort is not None:
        text = text.replace("{after}", sort.first if first_page else sort.after).replace("{order}", sort.order)
        text = text.replace("{page_key}", sort.page_key).replace("{page_order}", sort.page_order)
    if (slot := _SLOT.search(text)) is not None:
        raise ValueError(f"{slot.group(0)} is left unfilled")
    return text
