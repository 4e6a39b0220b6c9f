"""The OpenAPI document's body rules accept exactly what the service's own field rules accept."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema_rs
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.openapi import FIELD_RULES, TIMESTAMP
from service.schemas import clean_description, clean_tag, clean_title, parse_timestamp

SPACES = st.sampled_from([" ", "\t", "\n", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", "\ufeff"])
# Lone surrogates are left out: valid UTF-8 JSON cannot carry them (the decoder refuses such bodies).
TEXT = st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), SPACES, st.just("\x00")), max_size=60).map("".join)


def accepted_by(rule: Callable[[Any], Any], value: str) -> bool:
    try:
        rule(value)
    except ValueError:
        return False
    return True


@cache
def _validator(schema: str) -> Any:
    return jsonschema_rs.Draft202012Validator(json.loads(schema), validate_formats=True)


def valid(schema: dict[str, Any], value: str) -> bool:
    # Compiled once per schema: the description's pattern takes a while to compile.
    return bool(_validator(json.dumps(schema, sort_keys=True)).is_valid(value))


@given(TEXT)
@example(" x ")
@example("  ")
@example("a" * 51)
@example(" " + "a" * 50 + " ")
def test_tag_pattern_is_the_tag_rule(value: str) -> None:
    assert valid(FIELD_RULES["tags"]["items"], value) == accepted_by(clean_tag, value)


@given(TEXT)
@example("\u3000title\u3000")
@example("a\x00b")
def test_title_pattern_is_the_title_rule(value: str) -> None:
    title = {"type": "string", **FIELD_RULES["title"]}
    assert valid(title, value) == accepted_by(clean_title, value)
    assert valid(title, " " + "a" * 500 + "\n") and not valid(title, "a" * 501)


@settings(deadline=None)
@given(TEXT)
@example("")
@example(" \t ")
def test_description_pattern_is_the_description_rule(value: str) -> None:
    assert valid({"type": "string", **FIELD_RULES["description"]}, value) == accepted_by(clean_description, value)


# Years 0002 to 9998: at the two ends of the range the offset decides (0001-01-01T00:30:00+01:00 is
# before year 1 in UTC, which the service refuses), which a pattern cannot say; the description does.
WITHIN_RANGE = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones())


@given(WITHIN_RANGE.map(lambda d: d.isoformat()))
@example("2026-02-30T10:00:00Z")
@example("2026-03-01 17:00:00Z")
@example("2026-03-01T17:00:60Z")
@example("2026-03-01T17:00:00")
@example("2026-03-01T17:00:00.123456789+05:30")
def test_timestamp_schema_is_the_timestamp_rule(value: str) -> None:
    assert valid(TIMESTAMP, value) == accepted_by(parse_timestamp, value)
