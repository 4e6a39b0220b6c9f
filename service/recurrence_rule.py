"""The RRULE subset a recurring task may use (RFC 5545 3.3.10), parsed and checked part by part.

Parsing here, rather than with dateutil's `rrulestr`, is what lets every broken rule get a message a
person can act on, and keeps out what the contract does not allow (`WKST`, `BYSETPOS`, a part given
twice, ordinals outside MONTHLY), which `rrulestr` would accept. dateutil does the date arithmetic.

`UNTIL` takes the two forms RFC 5545 allows for a start that has a time zone: a date (`20261231`,
inclusive: the last local day occurrences may fall on) or a UTC date-time (`20261231T170000Z`, an
instant). A date-time without `Z` is local "floating" time, which RFC 5545 forbids with a zoned start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal, NamedTuple

from dateutil import rrule as du

Frequency = Literal[0, 1, 2, 3]  # dateutil's YEARLY, MONTHLY, WEEKLY, DAILY
MAX_RULE = 500
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQUENCIES: dict[str, Frequency] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
}
_SUPPORTED = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL")
# ASCII digits only: Python's \d and int() would also take other scripts' digits.
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?([A-Z]{2})")
_NUMBER = re.compile(r"[0-9]{1,4}")
_UNTIL = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:T([0-9]{2})([0-9]{2})([0-9]{2})(Z?))?")
# Days in each month; February counted with its leap day (the rule may still match in leap years).
_MONTH_LENGTHS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


class RuleError(ValueError):
    """What is wrong with a rule, as one sentence for `recurrence.rule`."""


class Weekday(NamedTuple):
    day: int  # 0 = Monday, as `date.weekday()`
    ordinal: int | None  # 1..5 or -1..-5 (MONTHLY only): the n-th such weekday of the month


@dataclass(frozen=True, slots=True)
class Rule:
    """A checked rule: what dateutil needs, plus COUNT and UNTIL, which the caller applies itself."""

    freq: Frequency
    interval: int = 1
    byday: tuple[Weekday, ...] = ()
    bymonthday: tuple[int, ...] = ()
    bymonth: tuple[int, ...] = ()
    count: int | None = None
    until: date | datetime | None = None  # a date: local and inclusive; a datetime: an instant in UTC


def normalise(text: str) -> str:
    """The rule as stored and returned: upper case, without an `RRULE:` prefix. Raises RuleError."""
    canonical = text.strip().upper().removeprefix("RRULE:")
    parse(canonical)
    return canonical


@lru_cache(maxsize=1024)
def parse(text: str) -> Rule:
    """A normalised rule's parts. Raises RuleError naming the first problem."""
    if not text:
        raise RuleError("must not be blank; send a rule such as FREQ=WEEKLY;BYDAY=MO")
    if len(text) > MAX_RULE:
        raise RuleError(f"must be at most {MAX_RULE} characters")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, equals, value = part.partition("=")
        if not part:
            raise RuleError("has an empty part; parts are NAME=VALUE separated by ';', with none at the end")
        if not equals or not name or not value:
            raise RuleError(f"{part!r} is not a NAME=VALUE rule part; parts are separated by ';'")
        if name in parts:
            raise RuleError(f"{name} is given twice")
        if name not in _SUPPORTED:
            raise RuleError(f"{name} is not supported; a rule may use " + ", ".join(_SUPPORTED))
        parts[name] = value
    if "FREQ" not in parts:
        raise RuleError("must have a FREQ part, such as FREQ=WEEKLY")
    rule = Rule(
        freq=_one_of(parts["FREQ"], _FREQUENCIES, "FREQ"),
        interval=_bounded(parts.get("INTERVAL", "1"), "INTERVAL", 1, 999),
        byday=tuple(_weekday(v) for v in _items(parts, "BYDAY")),
        bymonthday=tuple(_monthday(v) for v in _items(parts, "BYMONTHDAY")),
        bymonth=tuple(_bounded(v, "BYMONTH", 1, 12) for v in _items(parts, "BYMONTH")),
        count=_bounded(parts["COUNT"], "COUNT", 1, 1000) if "COUNT" in parts else None,
        until=_until(parts["UNTIL"]) if "UNTIL" in parts else None,
    )
    _check_combination(rule)
    return rule


def _check_combination(rule: Rule) -> None:
    if rule.count is not None and rule.until is not None:
        raise RuleError("COUNT and UNTIL cannot both be given")
    if rule.freq != du.MONTHLY and any(d.ordinal is not None for d in rule.byday):
        raise RuleError("a BYDAY ordinal such as 1MO or -1FR needs FREQ=MONTHLY")
    if rule.freq == du.WEEKLY and rule.bymonthday:
        raise RuleError("BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)")
    if not can_match(rule.byday, rule.bymonthday, rule.bymonth or range(1, 13)):
        raise RuleError("no date matches BYDAY, BYMONTHDAY and BYMONTH together")


def can_match(byday: tuple[Weekday, ...], bymonthday: tuple[int, ...], months: Iterable[int]) -> bool:
    """Whether any day of these months meets the day filters, trying every length and starting weekday."""
    lengths = {_MONTH_LENGTHS[m] for m in months} | ({28} if 2 in months else set())
    return any(
        _day_matches(day, (first + day - 1) % 7, length, byday, bymonthday)
        for length in lengths
        for first in range(7)
        for day in range(1, length + 1)
    )


def _day_matches(day: int, weekday: int, length: int, byday: tuple[Weekday, ...], bymonthday: tuple[int, ...]) -> bool:
    if bymonthday and day not in bymonthday and not (-1 in bymonthday and day == length):
        return False
    nth, nth_last = (day - 1) // 7 + 1, -((length - day) // 7 + 1)
    return not byday or any(w.day == weekday and w.ordinal in (None, nth, nth_last) for w in byday)


def _items(parts: dict[str, str], name: str) -> list[str]:
    return parts[name].split(",") if name in parts else []


def _one_of(value: str, choices: dict[str, Frequency], name: str) -> Frequency:
    if value not in choices:
        raise RuleError(f"{name} must be one of " + ", ".join(choices))
    return choices[value]


def _bounded(value: str, name: str, low: int, high: int) -> int:
    if not _NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise RuleError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return int(value)


def _monthday(value: str) -> int:
    if value == "-1":
        return -1
    if not _NUMBER.fullmatch(value) or not 1 <= int(value) <= 31:
        raise RuleError(f"BYMONTHDAY must be 1 to 31, or -1 for the last day, not {value!r}")
    return int(value)


def _weekday(value: str) -> Weekday:
    match = _BYDAY.fullmatch(value)
    if match is None or match.group(2) not in WEEKDAYS:
        raise RuleError(f"BYDAY must list days MO, TU, WE, TH, FR, SA, SU (with an ordinal such as 1MO), not {value!r}")
    ordinal = None if match.group(1) is None else int(match.group(1))
    if ordinal is not None and not 1 <= abs(ordinal) <= 5:
        raise RuleError(f"a BYDAY ordinal must be 1 to 5 or -1 to -5 (a month has at most five), not {value!r}")
    return Weekday(WEEKDAYS.index(match.group(2)), ordinal)


def _until(value: str) -> date | datetime:
    match = _UNTIL.fullmatch(value)
    if match is None:
        raise RuleError(f"UNTIL must be a date YYYYMMDD or a UTC date-time YYYYMMDDTHHMMSSZ, not {value!r}")
    year, month, day, hour, minute, second, utc = match.groups()
    if hour is not None and not utc:
        raise RuleError("UNTIL with a time must be in UTC and end with Z, such as 20261231T170000Z")
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        raise RuleError(f"UNTIL must be a real date, not {value!r}") from None


def weekdays(byday: tuple[Weekday, ...]) -> tuple[du.weekday, ...]:
    """The BYDAY list as dateutil's weekday objects (MO, FR(-1), ...)."""
    return tuple(du.weekdays[w.day] if w.ordinal is None else du.weekdays[w.day](w.ordinal) for w in byday)
