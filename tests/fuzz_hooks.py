"""Schemathesis hooks (schemathesis.toml loads this file).

One rule of the contract cannot be written in JSON Schema: at most 20 tags counted after trimming,
lower-casing and merging duplicates. The document leaves the count unbounded (`maxItems: 20` would
call 21 copies of one tag invalid, which the service rightly accepts), so bodies with more than 20
tags are left out of generation rather than reported as valid data the service refused.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from service.schemas import MAX_TAGS


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    tags = body.get("tags") if isinstance(body, dict) else None
    return not isinstance(tags, list) or len(tags) <= MAX_TAGS
