"""The list query of GET /api/{user_id}/tasks: parsed from the query string, every bad parameter named."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from service.errors import FieldError, ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
KNOWN = frozenset({"limit"})


class QueryParams(Protocol):
    def getall(self, key: str) -> Sequence[str]: ...

    def keys(self) -> Mapping[str, object] | Sequence[str]: ...  # type: ignore[override]


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT


def parse_list_query(params: QueryParams) -> ListQuery:
    errors: list[FieldError] = []
    for name in params.keys():
        if name not in KNOWN:
            errors.append(FieldError(name, "is not a known query parameter"))
    limit = DEFAULT_LIMIT
    values = params.getall("limit") if "limit" in params.keys() else []
    if len(values) > 1:
        errors.append(FieldError("limit", "must be given at most once"))
    elif values:
        raw = values[0].strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) < 6) or not 1 <= int(raw) <= MAX_LIMIT:
            errors.append(FieldError("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
        else:
            limit = int(raw)
    if errors:
        raise ValidationFailed.of(errors)
    return ListQuery(limit=limit)
