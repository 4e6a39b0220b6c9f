"""The task as the API shows it, and the request bodies that change it, with their validation rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NamedTuple, TypeVar
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from service import jsontypes, recurrence
from service.recurrence import Recurrence

Status = Literal["pending", "in_progress", "completed"]
Priority = Literal["low", "medium", "high"]
T = TypeVar("T")

MAX_TITLE = 500
MAX_DESCRIPTION = 10_000
MAX_TAGS = 20
MAX_TAG = 50
SERVER_OWNED = frozenset(
    {"id", "user_id", "created_at", "updated_at", "completed_at", "version", "position", "last_completed_at"}
)

Timestamp = Annotated[
    str,
    Meta(
        description="RFC 3339 timestamp with an offset; stored and returned in UTC",
        extra_json_schema={"format": "date-time", "examples": ["2026-03-01T17:00:00Z"]},
    ),
]
Title = Annotated[str, Meta(description="1 to 500 characters after trimming", examples=["Write the report"])]
Description = Annotated[str | None, Meta(description="at most 10,000 characters; empty becomes null")]
Tags = Annotated[
    list[str],
    Meta(
        description="each 1 to 50 characters after trimming; stored lower-case with duplicates merged, "
        "and at most 20 once merged"
    ),
]
ParentId = Annotated[
    UUID | None,
    Meta(description="one of the user's live top-level tasks (not the task itself), or null for a top-level task"),
]
ClientId = Annotated[
    UUID,
    Meta(description="optional id chosen by the client; 409 TASK_EXISTS when the user already has it (even deleted)"),
]
AfterId = Annotated[
    UUID | None,
    Meta(description="the live sibling (under the target parent) to go right after; null: first among them"),
]

# ASCII digits only, and a T between date and time, as RFC 3339's grammar (and JSON Schema's date-time) says.
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


# -- field rules, shared by the structs and by the field-by-field error report --------------------


def _no_bad_text(value: str) -> None:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None


def clean_title(value: str) -> str:
    _no_bad_text(value)
    title = value.strip()
    if not title:
        raise ValueError("must not be blank")
    if len(title) > MAX_TITLE:
        raise ValueError(f"must be at most {MAX_TITLE} characters")
    return title


def clean_description(value: str | None) -> str | None:
    if value is None:
        return None
    _no_bad_text(value)
    description = value.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValueError(f"must be at most {MAX_DESCRIPTION} characters")
    return description or None


def clean_tag(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected string, got {jsontypes.of(value)}")
    _no_bad_text(value)
    tag = value.strip().lower()
    if not tag:
        raise ValueError("must not be blank")
    if len(tag) > MAX_TAG:
        raise ValueError(f"must be at most {MAX_TAG} characters")
    return tag


def tag_errors(values: list[object]) -> list[tuple[str, str]]:
    """Every bad item of a tags list, as (field, message) pairs; the merged count is checked last."""
    errors: list[tuple[str, str]] = []
    merged: set[str] = set()
    for index, value in enumerate(values):
        try:
            merged.add(clean_tag(value))
        except ValueError as error:
            errors.append((f"tags[{index}]", str(error)))
    if not errors and len(merged) > MAX_TAGS:
        errors.append(("tags", f"must hold at most {MAX_TAGS} distinct tags"))
    return errors


def clean_tags(values: list[str]) -> list[str]:
    """Trim, lower-case and merge duplicates (first occurrence keeps its place); errors name the item."""
    if errors := tag_errors(list(values)):
        field, message = errors[0]
        raise FieldValueError(field, message) if field != "tags" else ValueError(message)
    return list(dict.fromkeys(map(clean_tag, values)))


def parse_timestamp(value: str) -> datetime:
    """RFC 3339 with a required offset, to UTC; fractions beyond microseconds are truncated, not rounded."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError("must be an RFC 3339 timestamp with an offset, such as 2026-03-01T17:00:00Z")
    date, time, fraction, offset = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        parsed = datetime.fromisoformat(f"{date}T{time}.{micro}{offset}").astimezone(UTC)
    except (ValueError, OverflowError):  # overflow: a valid local time outside years 1..9999 in UTC
        raise ValueError("must be a real date and time, such as 2026-03-01T17:00:00Z") from None
    if parsed.replace(tzinfo=None) in (datetime.min, datetime.max):
        # asyncpg stores these two as -infinity / infinity, which are not dates
        raise ValueError("must be after 0001-01-01T00:00:00Z and before 9999-12-31T23:59:59.999999Z")
    return parsed


def clean_due_date(value: str | None) -> datetime | None:
    return None if value is None else parse_timestamp(value)


class FieldValueError(ValueError):
    """A rule broken by one item inside a field (tags[3]); carries the item's own name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{message} - at `$.{field}`")
        self.field = field
        self.message = message


def check_completed(status: str | UnsetType, completed: bool | UnsetType) -> None:
    if status is UNSET or completed is UNSET:
        return
    if completed != (status == "completed"):
        raise FieldValueError("completed", f"disagrees with status {status!r}")


def check_recurrence(rule: Recurrence | UnsetType | None, due_date: str | UnsetType | None) -> None:
    """A recurring task needs a due date to move on; in a PATCH the stored one may serve (the database checks)."""
    if isinstance(rule, Recurrence) and due_date is None:
        raise FieldValueError("recurrence", "needs a due_date")


def recurrence_json(rule: Recurrence | None) -> str | None:
    """The jsonb bind of a recurrence: asyncpg takes JSON text."""
    return None if rule is None else msgspec.json.encode(rule).decode()


# Fields whose every inner problem is reported on its own (`tags[3]`, `recurrence.timezone`).
ITEM_ERRORS: dict[str, tuple[type, Any]] = {"tags": (list, tag_errors), "recurrence": (dict, recurrence.field_errors)}


# (field, cleaner) in the order errors are reported.
CLEANERS: dict[str, Any] = {
    "title": clean_title,
    "description": clean_description,
    "tags": clean_tags,
    "due_date": clean_due_date,
}


# -- request bodies and the binds they make ----------------------------------------------------


class CreateBinds(NamedTuple):
    """$2.. of tasks/create, in order."""

    title: str
    description: str | None
    status: str
    priority: str
    due_date: datetime | None
    tags: list[str]
    recurrence: str | None


class TaskChange(NamedTuple):
    """$4.. of tasks/update, in order: what a PUT, PATCH, complete or DELETE asks of a live task (None: keep).

    `next_due` and `ends` are the gateway's, not the request's: what completing a recurring task does,
    computed from the locked task (service.completion).
    """

    title: str | None = None
    set_description: bool = False
    description: str | None = None
    status_if_completed: str | None = None
    status_otherwise: str | None = None
    priority: str | None = None
    set_due_date: bool = False
    due_date: datetime | None = None
    tags: list[str] | None = None
    set_parent: bool = False  # parent_id is nullable, so a flag says whether it was sent
    parent_id: UUID | None = None
    set_recurrence: bool = False
    recurrence: str | None = None
    next_due: datetime | None = None
    ends: bool = False


DELETION = TaskChange(status_if_completed="deleted", status_otherwise="deleted")
TOGGLE = TaskChange(status_if_completed="pending", status_otherwise="completed")


def status_pair(
    status: Status | UnsetType, completed: bool | UnsetType, otherwise: str | None
) -> tuple[str | None, str | None]:
    """The new status of a completed task and of any other: `completed: false` only reopens a completed one."""
    if status is not UNSET:
        return status, status
    if completed is UNSET:
        return otherwise, otherwise
    return ("completed", "completed") if completed else ("pending", None)


# The structs keep the parsed due date beside the field (dict=True allows the extra attribute), so the
# timestamp is parsed once, while decoding, and the field keeps the wire's string type for OpenAPI.


class _TaskFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, dict=True):
    """Every editable field, as POST and PUT take them. `completed: true` is shorthand for status `completed`."""

    title: Title
    description: Description = None
    status: Status | UnsetType = UNSET
    priority: Priority = "medium"
    completed: bool | UnsetType = UNSET
    due_date: Timestamp | None = None
    tags: Tags = msgspec.field(default_factory=list)
    parent_id: ParentId = None
    recurrence: Recurrence | None = None

    def __post_init__(self) -> None:
        self.title = clean_title(self.title)
        self.description = clean_description(self.description)
        self.tags = clean_tags(self.tags)
        self.due_at = clean_due_date(self.due_date)
        check_completed(self.status, self.completed)
        check_recurrence(self.recurrence, self.due_date)


class TaskCreate(_TaskFields, forbid_unknown_fields=True, kw_only=True, dict=True):
    """POST body: a new task. `completed: true` is shorthand for status `completed`; `id` may be chosen."""

    id: ClientId | UnsetType = UNSET

    def chosen_id(self) -> UUID | None:
        return None if self.id is UNSET else self.id

    def binds(self) -> CreateBinds:
        status = "completed" if self.completed is True else "pending" if self.status is UNSET else self.status
        rule = recurrence_json(self.recurrence)
        return CreateBinds(self.title, self.description, status, self.priority, self.due_at, self.tags, rule)


class TaskReplace(_TaskFields, forbid_unknown_fields=True, kw_only=True, dict=True):
    """PUT body: every editable field; omitted ones go back to their defaults."""

    def binds(self) -> TaskChange:
        if_completed, otherwise = status_pair(self.status, self.completed, "pending")
        return TaskChange(
            self.title,
            True,
            self.description,
            if_completed,
            otherwise,
            self.priority,
            True,
            self.due_at,
            self.tags,
            True,  # an omitted parent_id is null: a full replace makes the task top-level
            self.parent_id,
            True,  # an omitted recurrence is null: a full replace stops it
            recurrence_json(self.recurrence),
        )


class TaskPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, dict=True):
    """PATCH body: only the fields present change; `null` clears description, due_date and recurrence."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    completed: bool | UnsetType = UNSET
    due_date: Timestamp | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET
    parent_id: ParentId | UnsetType = UNSET
    recurrence: Recurrence | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if self.title is not UNSET:
            self.title = clean_title(self.title)
        if self.description is not UNSET:
            self.description = clean_description(self.description)
        if self.tags is not UNSET:
            self.tags = clean_tags(self.tags)
        self.due_at = None if self.due_date is UNSET else clean_due_date(self.due_date)
        check_completed(self.status, self.completed)
        check_recurrence(self.recurrence, self.due_date)

    def is_empty(self) -> bool:
        return all(getattr(self, name) is UNSET for name in self.__struct_fields__)

    def binds(self) -> TaskChange:
        if_completed, otherwise = status_pair(self.status, self.completed, None)
        return TaskChange(
            title=_or_none(self.title),
            set_description=self.description is not UNSET,
            description=_or_none(self.description),
            status_if_completed=if_completed,
            status_otherwise=otherwise,
            priority=_or_none(self.priority),
            set_due_date=self.due_date is not UNSET,
            due_date=self.due_at,
            tags=_or_none(self.tags),
            set_parent=self.parent_id is not UNSET,
            parent_id=_or_none(self.parent_id),
            set_recurrence=self.recurrence is not UNSET,
            recurrence=recurrence_json(_or_none(self.recurrence)),
        )


class TaskCompletion(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """PATCH .../complete body: absent or `{}` toggles; `completed` sets it."""

    completed: bool | UnsetType = UNSET

    def binds(self) -> TaskChange:
        if self.completed is UNSET:
            return TOGGLE
        if_completed, otherwise = status_pair(UNSET, self.completed, None)
        return TaskChange(status_if_completed=if_completed, status_otherwise=otherwise)


class TaskMove(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """POST .../move body: where the task goes among its (new) siblings; an omitted parent_id keeps the parent."""

    after_id: AfterId
    parent_id: ParentId | UnsetType = UNSET

    def keeps_parent(self) -> bool:
        return self.parent_id is UNSET

    def target_parent(self) -> UUID | None:
        return _or_none(self.parent_id)


def _or_none(value: T | UnsetType) -> T | None:
    return None if value is UNSET else value


# -- responses --------------------------------------------------------------------------------


class Task(msgspec.Struct, frozen=True):
    """A task as the API returns it. Field order is the column order of every task-returning statement."""

    id: UUID
    user_id: str
    title: str
    description: str | None
    status: Status
    priority: Priority
    completed: bool
    due_date: datetime | None
    tags: list[str]
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    parent_id: UUID | None
    position: str
    recurrence: Recurrence | None
    last_completed_at: datetime | None

    def __post_init__(self) -> None:
        if isinstance(self.recurrence, str):  # jsonb arrives from asyncpg as JSON text
            msgspec.structs.force_setattr(self, "recurrence", _RECURRENCE.decode(self.recurrence))


_RECURRENCE = msgspec.json.Decoder(Recurrence)


class TaskEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    status: str = "success"
    data: Task


class ListMeta(msgspec.Struct, frozen=True):
    total: int
    limit: int
    next_cursor: str | None


class TaskListEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    status: str = "success"
    data: list[Task]
    meta: ListMeta
