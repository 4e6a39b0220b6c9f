"""Schemathesis hooks (schemathesis.toml loads this file): rules no schema can state.

A `parent_id` must name one of the user's live top-level tasks (else 422, as the contract says), which
a generated UUID never does: generated bodies go without one, and tests/api cover subtasks instead.

Cursors (`cursor` of the list and of the change feed) are signed by the service, so a generated one is
never valid (422, as the contract says); generated queries go without one, and the cursor tests of
tests/api cover them instead.

And at most 20 tags, at most 20 tags counted after trimming,
lower-casing and merging duplicates: the document leaves the count unbounded (`maxItems: 20` would
call 21 copies of one tag invalid, which the service rightly accepts), so bodies with more than 20
tags are left out of generation rather than reported as valid data the service refused.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from service.schemas import MAX_TAGS


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if isinstance(body, dict):
        body.pop("parent_id", None)
    return body


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    tags = body.get("tags") if isinstance(body, dict) else None
    return not isinstance(tags, list) or len(tags) <= MAX_TAGS


@schemathesis.hook
def map_query(context: Any, query: Any) -> Any:
    if isinstance(query, dict):
        query.pop("cursor", None)
    return query
