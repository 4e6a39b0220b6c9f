"""Recurrence properties over generated rules, zones and dates: what next_due promises, checked against
dateutil walking every period from the start (what next_due shortcuts), and validation that never
lets a bad value through nor rejects a good one."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from dateutil import rrule as du
from hypothesis import given, settings
from hypothesis import strategies as st

from service.recurrence import Recurrence, field_errors, next_due
from service.recurrence_rule import RuleError, normalise, parse, weekdays

# Zones with DST both ways round, half-hour DST (Lord_Howe), odd offsets, and none.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Santiago",
    "Asia/Tokyo",
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))


def _days(with_ordinals: bool = False) -> st.SearchStrategy[str]:
    ordinal = st.sampled_from(["", "1", "2", "-1", "+3", "4", "-2"]) if with_ordinals else st.just("")
    day = st.tuples(ordinal, st.sampled_from(DAYS)).map("".join)
    return st.lists(day, min_size=1, max_size=4, unique=True).map(",".join)


@st.composite
def rules(draw: st.DrawFn, frequencies: tuple[str, ...] = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")) -> str:
    """Valid rules whose INTERVAL always meets their days again, so the reference walk ends soon."""
    freq = draw(st.sampled_from(frequencies))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, 4)) if freq != "DAILY" else draw(st.sampled_from([1, 2, 3, 5, 6, 10]))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if draw(st.booleans()):
        parts.append("BYDAY=" + draw(_days(with_ordinals=freq == "MONTHLY")))
    if freq in ("MONTHLY", "YEARLY", "DAILY") and draw(st.booleans()):
        days = draw(st.lists(st.sampled_from([1, 2, 13, 28, 29, 30, 31, -1]), min_size=1, max_size=3, unique=True))
        parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
    if (freq != "MONTHLY" or interval == 1) and draw(st.booleans()):
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    text = ";".join(parts)
    try:
        parse(text)
    except RuleError:  # a combination no date meets
        return f"FREQ={freq}"
    return text


def reference(recurrence: Recurrence, due: datetime, now: datetime) -> datetime | None:
    """The contract's wording, done the slow way: dateutil with its own defaults, from the anchor on."""
    rule, zone = parse(recurrence.rule), ZoneInfo(recurrence.timezone)
    wall_due = due.astimezone(zone).replace(tzinfo=None)
    if recurrence.from_ == "due":
        anchor, floor = wall_due, max(due, now)
    else:
        anchor = datetime.combine(now.astimezone(zone).date(), wall_due.time())
        floor = max(now, anchor.replace(tzinfo=zone))
    walk = du.rrule(
        rule.freq,
        dtstart=anchor,
        interval=rule.interval,
        byweekday=weekdays(rule.byday) or None,
        bymonthday=rule.bymonthday or None,
        bymonth=rule.bymonth or None,
    )
    for wall in walk:
        instant = wall.replace(microsecond=anchor.microsecond, tzinfo=zone).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(microsecond=anchor.microsecond):
            continue  # a time the clocks skip
        if instant > floor:
            return instant
    return None


@settings(max_examples=150, deadline=None)
@given(
    rule=rules(),
    zone=st.sampled_from(ZONES),
    anchor=st.sampled_from(["due", "completion"]),
    due=instants,
    lag=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=2000)),
)
def test_next_due_is_the_rules_next_occurrence(
    rule: str, zone: str, anchor: str, due: datetime, lag: timedelta
) -> None:
    recurrence = msgspec.convert({"rule": rule, "timezone": zone, "from": anchor}, Recurrence)
    now = due + lag
    following = next_due(recurrence, due, 0, now)
    assert following == reference(recurrence, due, now)
    if following is not None:
        assert following > now and following.tzinfo is UTC
        if anchor == "due":
            assert following > due


@settings(max_examples=150, deadline=None)
@given(
    rule=rules(("DAILY", "WEEKLY")),
    zone=st.sampled_from(ZONES),
    anchor=st.sampled_from(["due", "completion"]),
    due=instants,
    lag=st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30000)),
)
def test_daily_and_weekly_keep_the_local_time_of_day(
    rule: str, zone: str, anchor: str, due: datetime, lag: timedelta
) -> None:
    recurrence = msgspec.convert({"rule": rule, "timezone": zone, "from": anchor}, Recurrence)
    now = due + lag
    following = next_due(recurrence, due, 0, now)
    assert following is not None
    assert following > max(now, due) if anchor == "due" else following > now
    assert following.astimezone(ZoneInfo(zone)).time() == due.astimezone(ZoneInfo(zone)).time()


NAMES = ["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST", "BYSETPOS", "freq", ""]
VALUES = ["DAILY", "weekly", "MONTHLY", "0", "1", "31", "-1", "1000", "1001", "MO,FR", "-1FR", "6MO", "20261231"]
VALUES += ["20261231T120000Z", "20261231T120000", "", "YEARLY", "13", "x", "1,2,-1"]
rule_texts = st.one_of(
    st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)), max_size=5).map(
        lambda parts: ";".join(f"{name}={value}" for name, value in parts)
    ),
    st.text(max_size=60),
)


@settings(max_examples=500, deadline=None)
@given(text=rule_texts)
def test_any_text_is_a_rule_or_a_rule_error(text: str) -> None:
    try:
        canonical = normalise(text)
    except RuleError as error:
        assert str(error)
    else:
        assert normalise(canonical) == canonical


values = st.one_of(rule_texts, st.sampled_from([*ZONES, "due", "completion", "Nowhere"]), st.none(), st.integers())
raw_recurrences = st.one_of(
    st.dictionaries(st.sampled_from(["rule", "timezone", "from", "dtstart"]), values, max_size=4),
    st.fixed_dictionaries({"rule": st.just("FREQ=DAILY")}, optional={"timezone": values, "from": values}),
    values,
)


@settings(max_examples=500, deadline=None)
@given(raw=raw_recurrences)
def test_the_error_report_agrees_with_the_decoder(raw: Any) -> None:
    """Whatever the struct rejects, field_errors names at least one field, and only then."""
    try:
        msgspec.convert(raw, Recurrence)
    except (msgspec.ValidationError, ValueError):
        assert field_errors(raw) or raw is None
    else:
        assert field_errors(raw) == []


@pytest.fixture
def no_system_zones() -> Iterator[None]:
    """As in a container without /usr/share/zoneinfo: only the tzdata package remains."""
    zoneinfo.reset_tzpath(to=[])
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()


@pytest.mark.usefixtures("no_system_zones")
@pytest.mark.parametrize("zone", ZONES)
def test_the_zones_load_from_the_packaged_data(zone: str) -> None:
    assert ZoneInfo.no_cache(zone).utcoffset(datetime(2026, 1, 1)) is not None
    assert zone in zoneinfo.available_timezones()
