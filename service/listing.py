"""The list query of GET /api/{user_id}/tasks: parsed from the query string, every bad parameter named."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import MultiDict

from service.errors import FieldError, ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
KNOWN = frozenset({"limit"})


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT


def parse_list_query(params: MultiDict[str]) -> ListQuery:
    errors: list[FieldError] = []
    for name in params:
        if name not in KNOWN:
            errors.append(FieldError(name, "is not a known query parameter"))
    limit = DEFAULT_LIMIT
    values = params.getall("limit", [])
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
