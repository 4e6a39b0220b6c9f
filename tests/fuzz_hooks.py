"""Schemathesis hooks and one check (schemathesis.toml loads this file): rules no schema can state.

Every operation runs every phase, positive and negative. What follows is each thing the pass tolerates,
and why; nothing else is left out.

Values whose rules the document describes but no JSON Schema keyword can state are left out of generated
requests (positive ones would be refused with a correct 422), and tests/api cover them instead:

- `parent_id` must name one of the user's live top-level tasks, which a generated UUID never does:
  generated bodies go without one.
- A move's `after_id` must name a live sibling under the target parent, which a generated UUID never does:
  generated moves go to the first place (`after_id: null`).
- A `recurrence` object's rule has cross-part checks (each part once, COUNT or UNTIL, BYDAY ordinals only
  with MONTHLY, day filters some date meets), an IANA zone, and needs a due_date (which a PATCH may take
  from the stored task): generated objects are left out, `recurrence: null` stays.
- Cursors (`cursor` of the list and of the change feed) are signed by the service, so a generated one is
  never valid: generated queries go without one.
- At most 20 tags counted after trimming, lower-casing and merging duplicates: the document leaves the
  count unbounded (`maxItems: 20` would call 21 copies of one tag invalid, which the service rightly
  accepts), so bodies with more than 20 tags are not generated.
- A timestamp (`due_date`, and the list's `due_after` and `due_before`) must lie strictly between
  0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in UTC, as the document's descriptions say
  (Python has no date outside; the two ends are what the database driver stores as -infinity and
  infinity). On the first and the last day of that range the offset decides (0001-01-01T00:30:00+01:00
  is before year 1 in UTC), which a pattern could only state by listing every offset against every time
  of day: valid cases with a timestamp on either day are not generated. tests/api/test_validation.py and
  tests/api/test_list_json.py cover both ends (for due_date; the bounds are read by the same code).

The same applies to each operation's `data` in a batch. The edits are made on the whole case, so that
schemathesis judges the case again as sent: a negative case whose only invalid part was one of these
values is then checked as the valid request it has become.

Schemathesis itself (4.32.5) can label a case negative when nothing it sends is invalid: in negative mode
an optional body (`.../complete`'s) may be left out while the case keeps its "negative body" label. Such
a case is a valid request, and the negative-data check would call its success a failure, so it is left
out (its positive twin is generated in positive mode).

A batch answers an operation whose `data` breaks its route's rules with that operation's error inside a
200 (the contract's per-operation result), which the built-in negative-data check reads as invalid data
accepted. So for the batch alone, schemathesis.toml turns that check off and `batch_negative_data_rejection`
below runs it instead, on every case except those whose only invalid part lies inside an operation's
`data`: an invalid envelope (operations, op, id, if_match, atomic, unknown keys), header or path still
must be refused. Every other check runs on the batch as on every route.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import schemathesis
from schemathesis import checks
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation

from service.schemas import MAX_TAGS

BATCH_PATH = "/api/{user_id}/tasks/batch"
TIME_BOUNDS = ("due_after", "due_before")
# The first and last day of years 1..9999: there a timestamp's offset decides whether it is in range.
EDGE_DAYS = ("0001-01-01", "9999-12-31")


def _without_unstated(body: Any) -> bool:
    """Takes out of a task body the values whose rules the document cannot state (see above); True if any."""
    if not isinstance(body, dict):
        return False
    before = len(body), body.get("after_id")
    body.pop("parent_id", None)
    if isinstance(body.get("recurrence"), dict):
        del body["recurrence"]
    if "after_id" in body:
        body["after_id"] = None
    return (len(body), body.get("after_id")) != before


def _task_bodies(case: Any) -> list[Any]:
    """The case's task bodies: its body, or each operation's `data` in a batch."""
    body = case.body
    operations = body.get("operations") if isinstance(body, dict) and case.operation.path == BATCH_PATH else None
    if isinstance(operations, list):
        return [operation.get("data") for operation in operations if isinstance(operation, dict)]
    return [body]


def _prepare(case: Any) -> None:
    # Assigning the edited body and query again makes schemathesis validate the case anew (only when
    # edited: it would call a left-out optional body invalid).
    if any([_without_unstated(body) for body in _task_bodies(case)]):
        case.body = case.body
    if isinstance(case.query, dict) and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}


# The fuzzing, coverage and stateful phases take their cases through map_case, the examples phase through
# before_add_examples.
@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    _prepare(case)
    return case


@schemathesis.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    for case in examples:
        _prepare(case)


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    bodies = _task_bodies(case)
    if any(_too_many_tags(body) for body in bodies) or _nothing_negative_sent(case):
        return False
    return not (_is_positive(case) and any(_at_an_end_of_time(value) for value in _timestamps(case, bodies)))


def _is_positive(case: Any) -> bool:
    return case.meta is None or case.meta.generation.mode.is_positive


def _timestamps(case: Any, bodies: list[Any]) -> list[Any]:
    query = case.query if isinstance(case.query, dict) else {}
    return [*(body.get("due_date") for body in bodies if isinstance(body, dict)), *map(query.get, TIME_BOUNDS)]


def _at_an_end_of_time(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(EDGE_DAYS)


def _too_many_tags(body: Any) -> bool:
    tags = body.get("tags") if isinstance(body, dict) else None
    return isinstance(tags, list) and len(tags) > MAX_TAGS


def _nothing_negative_sent(case: Any) -> bool:
    """A negative-mode case in which no part that is sent is negative (see above)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative or not meta.components:
        return False
    return not any(
        info.mode.is_negative and (location != ParameterLocation.BODY or not isinstance(case.body, NotSet))
        for location, info in meta.components.items()
    )


@schemathesis.check
def batch_negative_data_rejection(ctx: Any, response: Any, case: Any) -> bool | None:
    """negative_data_rejection for the batch, except for invalid data only inside an operation's `data`."""
    if case.operation.path != BATCH_PATH or case.meta is None or _only_data_negative(case):
        return None
    result: bool | None = checks.negative_data_rejection(ctx, response, case)
    return result


def _only_data_negative(case: Any) -> bool:
    """No header, path or query part is negative, and the body is a valid envelope: the invalid part is a `data`."""
    negative = [location for location, info in case.meta.components.items() if info.mode.is_negative]
    if negative != [ParameterLocation.BODY] or isinstance(case.body, NotSet):
        return False
    try:
        return bool(_envelope(case.operation).is_valid(case.body))
    except ValueError:  # not a JSON value at all (raw bytes): not a valid envelope either
        return False


_ENVELOPES: dict[str, Any] = {}


def _envelope(operation: Any) -> Any:
    """A validator of the batch body as documented, with each operation's `data` open to any value."""
    if operation.label not in _ENVELOPES:
        schema = copy.deepcopy(operation.definition.raw["requestBody"]["content"]["application/json"]["schema"])
        for arm in schema["properties"]["operations"]["items"]["anyOf"]:
            if "data" in arm["properties"]:
                arm["properties"]["data"] = {}
        _ENVELOPES[operation.label] = jsonschema_rs.validator_for(schema)
    return _ENVELOPES[operation.label]
