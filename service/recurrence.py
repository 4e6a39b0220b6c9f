"""Recurring tasks: the `recurrence` field of a task, and the due date that follows a completion.

Occurrences are computed on naive local wall times (dateutil) and only then placed in the task's zone
(zoneinfo), so "09:00 Europe/Berlin" stays 09:00 local across daylight-saving changes, and dateutil's
trap (with a zone-aware start, UNTIL must be in UTC) never arises: UNTIL is applied here instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

import msgspec
from dateutil import rrule as du
from dateutil.relativedelta import relativedelta
from msgspec import Meta

from service import jsontypes
from service.recurrence_rule import MAX_RULE, Rule, can_match, normalise, parse, weekdays

Anchor = Literal["due", "completion"]
RuleText = Annotated[
    str,
    Meta(
        description=(
            "RFC 5545 RRULE limited to FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL (1-999), BYDAY "
            "(MO..SU; ordinals such as 1MO or -1FR with MONTHLY), BYMONTHDAY (1-31, -1), BYMONTH (1-12), "
            "COUNT (1-1000, counts completions) or UNTIL (YYYYMMDD, or YYYYMMDDTHHMMSSZ in UTC). "
            "Returned upper case without an RRULE: prefix."
        ),
        examples=["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "FREQ=MONTHLY;BYDAY=-1FR"],
        extra_json_schema={"maxLength": MAX_RULE},
    ),
]
ZoneName = Annotated[str, Meta(description="IANA time zone the rule is computed in", examples=["Europe/Berlin"])]
AnchorField = Annotated[
    Anchor,
    Meta(description="due: the next occurrence after the current due date; completion: after the completion day"),
]


class Recurrence(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a task repeats. Completing it moves `due_date` to the next occurrence instead of closing it."""

    rule: RuleText
    timezone: ZoneName = "UTC"
    from_: AnchorField = msgspec.field(default="due", name="from")

    def __post_init__(self) -> None:
        # The messages a client reads come from field_errors(), which names the part; these only reject.
        self.rule = normalise(self.rule)
        check_zone(self.timezone)


# -- validation, field by field ---------------------------------------------------------------


@cache
def _zones() -> dict[str, str]:
    """Every IANA name the zone data knows, by its lower-case spelling (to suggest the right case)."""
    return {name.lower(): name for name in available_timezones()}


def check_zone(name: str) -> None:
    if name in _zones().values():
        return
    known = _zones().get(name.lower())
    hint = f"; did you mean {known}?" if known else ", such as Europe/Berlin or UTC"
    raise ValueError("must be an IANA time zone name" + hint)


def _check_rule(value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"expected string, got {jsontypes.of(value)}")
    normalise(value)


def _check_timezone(value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"expected string, got {jsontypes.of(value)}")
    check_zone(value)


def _check_from(value: object) -> None:
    if value not in ("due", "completion"):
        raise ValueError("must be one of: due, completion")


_CHECKS = {"rule": _check_rule, "timezone": _check_timezone, "from": _check_from}


def field_errors(raw: object, name: str = "recurrence") -> list[tuple[str, str]]:
    """Every problem of a raw `recurrence` value as (field, message) pairs, each naming its key."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        return [(name, f"expected object, got {jsontypes.of(raw)}")]
    errors = [(f"{name}.{key}", "is not a known field") for key in raw if key not in _CHECKS]
    if "rule" not in raw:
        errors.append((f"{name}.rule", "is required"))
    for key, check in _CHECKS.items():
        if key in raw:
            try:
                check(raw[key])
            except ValueError as error:  # RuleError included
                errors.append((f"{name}.{key}", str(error)))
    return errors


# -- the next occurrence ----------------------------------------------------------------------


def next_due(recurrence: Recurrence, due: datetime, completions: int, now: datetime) -> datetime | None:
    """The due date after one more completion, in UTC; None when this completion ends the recurrence.

    `due` is the task's due date and `completions` how many completions it has had since its rule or
    due date last changed (this one not counted). `due` and `now` are aware datetimes.
    """
    rule = parse(recurrence.rule)
    if rule.count is not None and completions + 1 >= rule.count:
        return None  # COUNT counts completions: this is the last
    zone = ZoneInfo(recurrence.timezone)
    try:
        wall_due = due.astimezone(zone).replace(tzinfo=None)
        if recurrence.from_ == "due":
            anchor, floor = wall_due, max(due, now)
        else:
            anchor = datetime.combine(now.astimezone(zone).date(), wall_due.time())
            floor = max(now, anchor.replace(tzinfo=zone))  # the completion day's own slot is the one just done
        for wall in _walls(rule, anchor, floor.astimezone(zone).replace(tzinfo=None)):
            instant = _instant(wall, zone)
            if instant is None:
                continue
            if _past_until(rule, wall, instant):
                return None
            if instant > floor:
                return instant
    except OverflowError:  # a local time beyond year 9999 (or before year 1): no occurrence there
        return None
    return None


def _instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time; None when the clocks skip it (RFC 5545: the occurrence is
    ignored). An ambiguous time (clocks set back) is its first instant, as fold=0 gives."""
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    return instant if instant.astimezone(zone).replace(tzinfo=None) == wall else None


def _past_until(rule: Rule, wall: datetime, instant: datetime) -> bool:
    if isinstance(rule.until, datetime):
        return instant > rule.until
    return rule.until is not None and wall.date() > rule.until


def _walls(rule: Rule, anchor: datetime, floor: datetime) -> Iterator[datetime]:
    """The rule's local wall times from `anchor` on, starting near `floor` without changing which dates
    the rule picks: dateutil walks every period from its start, which for a task due long ago (or for a
    rule whose INTERVAL never meets its BYMONTH or BYDAY) would take seconds."""
    options = _options(rule, anchor)
    if not _reachable(rule, anchor, options):
        return
    start = _skip_ahead(rule, anchor, floor)
    for wall in du.rrule(rule.freq, dtstart=start, interval=rule.interval, **options):
        yield wall.replace(microsecond=anchor.microsecond)  # dateutil drops microseconds


def _options(rule: Rule, anchor: datetime) -> dict[str, Any]:
    """BYxxx for dateutil, with the defaults it would take from the start written out (RFC 5545: a rule
    without them repeats on the start's weekday, day or date), so the start may move."""
    options: dict[str, Any] = {
        "byweekday": weekdays(rule.byday) or None,
        "bymonthday": rule.bymonthday or None,
        "bymonth": rule.bymonth or None,
    }
    if not rule.byday and not rule.bymonthday:
        if rule.freq == du.WEEKLY:
            options["byweekday"] = (anchor.weekday(),)
        elif rule.freq in (du.MONTHLY, du.YEARLY):
            options["bymonthday"] = (anchor.day,)
            if rule.freq == du.YEARLY and not rule.bymonth:
                options["bymonth"] = (anchor.month,)
    return options


def _reachable(rule: Rule, anchor: datetime, options: dict[str, Any]) -> bool:
    """False for the rules whose INTERVAL never lands on a matching day (dateutil would search to 9999)."""
    if rule.freq == du.DAILY and rule.interval % 7 == 0 and rule.byday:
        return any(w.day == anchor.weekday() for w in rule.byday)
    if rule.freq == du.MONTHLY:
        step = math.gcd(rule.interval, 12)
        months = {(anchor.month - 1 + k * step) % 12 + 1 for k in range(12 // step)}
        months &= set(rule.bymonth) or months
        return bool(months) and can_match(rule.byday, tuple(options["bymonthday"] or ()), months)
    return True


def _skip_ahead(rule: Rule, anchor: datetime, floor: datetime) -> datetime:
    """The start of the last whole number of INTERVALs from `anchor` that is a full period before
    `floor`, so every occurrence after `floor` is still generated, or `anchor` itself."""
    if rule.freq == du.DAILY:
        periods = (floor.date() - anchor.date()).days
        step: relativedelta | timedelta = timedelta(days=rule.interval)
        base = anchor
    elif rule.freq == du.WEEKLY:
        periods = (_monday(floor.date()) - _monday(anchor.date())).days // 7
        step = timedelta(weeks=rule.interval)
        base = anchor
    elif rule.freq == du.MONTHLY:
        periods = (floor.year - anchor.year) * 12 + floor.month - anchor.month
        step = relativedelta(months=rule.interval)
        base = anchor.replace(day=1)
    else:
        periods = floor.year - anchor.year
        step = relativedelta(years=rule.interval)
        base = anchor.replace(month=1, day=1)
    skips = periods // rule.interval - 1
    return anchor if skips <= 0 else base + step * skips


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
