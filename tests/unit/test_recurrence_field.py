"""The `recurrence` field: defaults, the RRULE subset, and an error naming each bad key."""

from __future__ import annotations

import msgspec
import pytest

from service.recurrence import Recurrence, field_errors

BERLIN = "Europe/Berlin"


def recurrence(rule: str) -> Recurrence:
    return msgspec.convert({"rule": rule}, Recurrence)


def test_defaults_are_filled_in_and_the_rule_is_normalised() -> None:
    value = msgspec.convert({"rule": " rrule:freq=weekly;byday=mo,fr "}, Recurrence)
    assert (value.rule, value.timezone, value.from_) == ("FREQ=WEEKLY;BYDAY=MO,FR", "UTC", "due")
    assert msgspec.json.decode(msgspec.json.encode(value)) == {
        "rule": "FREQ=WEEKLY;BYDAY=MO,FR",
        "timezone": "UTC",
        "from": "due",
    }


VALID_RULES = [
    "FREQ=DAILY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=+1MO,3WE",
    "FREQ=MONTHLY;BYMONTHDAY=1,15,-1",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=YEARLY;BYMONTH=1,7;BYDAY=SU",
    "FREQ=DAILY;COUNT=1000",
    "FREQ=DAILY;INTERVAL=999",
    "FREQ=DAILY;UNTIL=20261231",
    "FREQ=DAILY;UNTIL=20261231T235959Z",
    "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
]


@pytest.mark.parametrize("rule", VALID_RULES)
def test_valid_rules_pass(rule: str) -> None:
    assert field_errors({"rule": rule, "timezone": BERLIN, "from": "completion"}) == []
    assert recurrence(rule).rule == rule


INVALID_RULES = [
    ("", "must not be blank"),
    ("FREQ=HOURLY", "FREQ must be one of"),
    ("FREQ=SECONDLY", "FREQ must be one of"),
    ("INTERVAL=2", "must have a FREQ part"),
    ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
    ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "BYDAY is given twice"),
    ("FREQ=WEEKLY;WKST=SU", "WKST is not supported"),
    ("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR", "BYSETPOS is not supported"),
    ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported"),
    ("FREQ=YEARLY;BYWEEKNO=1", "BYWEEKNO is not supported"),
    ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY is not supported"),
    ("FREQ=DAILY;X-NAME=1", "X-NAME is not supported"),
    ("FREQ=DAILY;", "empty part"),
    ("FREQ", "not a NAME=VALUE rule part"),
    ("FREQ=", "not a NAME=VALUE rule part"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number from 1 to 999"),
    ("FREQ=DAILY;INTERVAL=1000", "INTERVAL must be a whole number from 1 to 999"),
    ("FREQ=DAILY;INTERVAL=-1", "INTERVAL must be a whole number from 1 to 999"),
    ("FREQ=DAILY;INTERVAL=٣", "INTERVAL must be a whole number from 1 to 999"),
    ("FREQ=WEEKLY;BYDAY=XX", "BYDAY must list days"),
    ("FREQ=WEEKLY;BYDAY=MO,", "BYDAY must list days"),
    ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY"),
    ("FREQ=YEARLY;BYDAY=-1FR", "needs FREQ=MONTHLY"),
    ("FREQ=DAILY;BYDAY=2TU", "needs FREQ=MONTHLY"),
    ("FREQ=MONTHLY;BYDAY=0MO", "ordinal must be 1 to 5"),
    ("FREQ=MONTHLY;BYDAY=6MO", "ordinal must be 1 to 5"),
    ("FREQ=MONTHLY;BYDAY=-6MO", "ordinal must be 1 to 5"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY must be 1 to 31, or -1"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY must be 1 to 31, or -1"),
    ("FREQ=MONTHLY;BYMONTHDAY=-2", "BYMONTHDAY must be 1 to 31, or -1"),
    ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"),
    ("FREQ=YEARLY;BYMONTH=0", "BYMONTH must be a whole number from 1 to 12"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH must be a whole number from 1 to 12"),
    ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number from 1 to 1000"),
    ("FREQ=DAILY;COUNT=1001", "COUNT must be a whole number from 1 to 1000"),
    ("FREQ=DAILY;COUNT=2;UNTIL=20261231", "COUNT and UNTIL cannot both be given"),
    ("FREQ=DAILY;UNTIL=2026-12-31", "UNTIL must be a date YYYYMMDD"),
    ("FREQ=DAILY;UNTIL=20261231T235959", "must be in UTC and end with Z"),
    ("FREQ=DAILY;UNTIL=20260230", "UNTIL must be a real date"),
    ("FREQ=DAILY;UNTIL=20261231T250000Z", "UNTIL must be a real date"),
    ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "no date matches"),
    ("FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31", "no date matches"),
    ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20", "no date matches"),
    ("FREQ=DAILY;" + "BYMONTH=1;" * 100, "must be at most 500 characters"),
    ("FREQ=DAILY\x00", "FREQ must be one of"),
    ("FREQ=DAILY; BYDAY=MO", "is not supported"),
]


@pytest.mark.parametrize(("rule", "message"), INVALID_RULES)
def test_invalid_rules_name_recurrence_rule(rule: str, message: str) -> None:
    errors = field_errors({"rule": rule})
    assert len(errors) == 1, errors
    field, text = errors[0]
    assert field == "recurrence.rule"
    assert message in text
    with pytest.raises(ValueError):
        recurrence(rule)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FREQ=DAILY", [("recurrence", "expected object, got string")]),
        ([], [("recurrence", "expected object, got array")]),
        ({}, [("recurrence.rule", "is required")]),
        ({"rule": 7}, [("recurrence.rule", "expected string, got integer")]),
        ({"rule": None}, [("recurrence.rule", "expected string, got null")]),
        ({"rule": "FREQ=DAILY", "timezone": None}, [("recurrence.timezone", "expected string, got null")]),
        ({"rule": "FREQ=DAILY", "timezone": "Mars/Olympus"}, [("recurrence.timezone", "must be an IANA")]),
        ({"rule": "FREQ=DAILY", "timezone": ""}, [("recurrence.timezone", "must be an IANA")]),
        ({"rule": "FREQ=DAILY", "timezone": "../etc/passwd"}, [("recurrence.timezone", "must be an IANA")]),
        ({"rule": "FREQ=DAILY", "timezone": "europe/berlin"}, [("recurrence.timezone", "did you mean Europe/Berlin")]),
        ({"rule": "FREQ=DAILY", "from": "start"}, [("recurrence.from", "must be one of: due, completion")]),
        ({"rule": "FREQ=DAILY", "from": None}, [("recurrence.from", "must be one of: due, completion")]),
        ({"rule": "FREQ=DAILY", "from_": "due"}, [("recurrence.from_", "is not a known field")]),
        ({"rule": "FREQ=DAILY", "dtstart": "x"}, [("recurrence.dtstart", "is not a known field")]),
    ],
)
def test_field_errors_name_the_key(raw: object, expected: list[tuple[str, str]]) -> None:
    errors = field_errors(raw)
    assert [field for field, _ in errors] == [field for field, _ in expected]
    assert all(part in message for (_, message), (_, part) in zip(errors, expected, strict=True))
    with pytest.raises((msgspec.ValidationError, ValueError)):
        msgspec.convert(raw, Recurrence)


def test_every_bad_key_is_reported_at_once() -> None:
    errors = field_errors({"rule": "FREQ=HOURLY", "timezone": "Nowhere", "from": "x", "extra": 1})
    assert sorted(field for field, _ in errors) == [
        "recurrence.extra",
        "recurrence.from",
        "recurrence.rule",
        "recurrence.timezone",
    ]


def test_null_is_no_recurrence() -> None:
    assert field_errors(None) == []
