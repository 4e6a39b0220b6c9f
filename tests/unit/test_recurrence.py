"""The next due date of a recurring task: across zones and DST, by each rule part, COUNT, UNTIL and anchor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from service.recurrence import Recurrence, next_due

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def recurrence(rule: str, timezone: str = "UTC", anchor: str = "due") -> Recurrence:
    return msgspec.convert({"rule": rule, "timezone": timezone, "from": anchor}, Recurrence)


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local wall time in `zone`, as the UTC instant the database stores."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def wall(instant: datetime | None, zone: str) -> datetime:
    assert instant is not None
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def chain(rule: Recurrence, due: datetime, steps: int, now: datetime | None = None) -> list[datetime]:
    """The due dates `steps` completions in a row give, each completed at its due date (or at `now`)."""
    dues: list[datetime] = []
    for done in range(steps):
        following = next_due(rule, due, done, now or due)
        assert following is not None
        dues.append(following)
        due = following
    return dues


# -- daylight saving: the local time of day stays -------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "before", "after", "utc_hours"),
    [
        (BERLIN, (2026, 3, 28, 9), (2026, 3, 29, 9), (8, 7)),  # CET -> CEST
        (BERLIN, (2026, 10, 24, 9), (2026, 10, 25, 9), (7, 8)),  # CEST -> CET
        (NEW_YORK, (2026, 3, 7, 9), (2026, 3, 8, 9), (14, 13)),  # EST -> EDT
        (NEW_YORK, (2026, 10, 31, 9), (2026, 11, 1, 9), (13, 14)),  # EDT -> EST
    ],
)
def test_daily_keeps_local_time_across_dst(
    zone: str, before: tuple[int, int, int, int], after: tuple[int, int, int, int], utc_hours: tuple[int, int]
) -> None:
    due = at(zone, *before)
    following = next_due(recurrence("FREQ=DAILY", zone), due, 0, due)
    assert following is not None
    assert following == at(zone, *after)
    assert (due.hour, following.hour) == utc_hours


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
def test_weekly_keeps_local_time_through_a_year(zone: str) -> None:
    due = at(zone, 2026, 1, 5, 9, 30)  # a Monday
    dues = chain(recurrence("FREQ=WEEKLY", zone), due, 52)
    assert {wall(d, zone).time().isoformat() for d in dues} == {"09:30:00"}
    assert {wall(d, zone).weekday() for d in dues} == {0}
    assert len({d.hour for d in dues}) == 2  # in UTC it moved with the clocks


def test_a_time_the_clocks_skip_is_skipped() -> None:
    due = at(BERLIN, 2026, 3, 28, 2, 30)  # 02:30 does not exist on 29 March 2026 in Berlin
    assert wall(next_due(recurrence("FREQ=DAILY", BERLIN), due, 0, due), BERLIN) == datetime(2026, 3, 30, 2, 30)


def test_a_time_the_clocks_repeat_is_its_first_instant() -> None:
    due = at(BERLIN, 2026, 10, 24, 2, 30)  # 02:30 happens twice on 25 October 2026 in Berlin
    following = next_due(recurrence("FREQ=DAILY", BERLIN), due, 0, due)
    assert following == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # CEST, the first of the two


# -- the rule's parts -------------------------------------------------------------------------


def test_every_weekday() -> None:
    due = at(BERLIN, 2026, 11, 27, 9)  # a Friday
    dues = chain(recurrence("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", BERLIN), due, 10)
    days = [wall(d, BERLIN) for d in dues]
    assert days[0] == datetime(2026, 11, 30, 9)  # Monday
    assert [d.weekday() for d in days] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    assert days[-1] == datetime(2026, 12, 11, 9)


def test_last_friday_of_each_month() -> None:
    due = at(NEW_YORK, 2026, 1, 30, 17)
    dues = chain(recurrence("FREQ=MONTHLY;BYDAY=-1FR", NEW_YORK), due, 4)
    assert [wall(d, NEW_YORK) for d in dues] == [
        datetime(2026, 2, 27, 17),
        datetime(2026, 3, 27, 17),
        datetime(2026, 4, 24, 17),
        datetime(2026, 5, 29, 17),
    ]


@pytest.mark.parametrize("rule", ["FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=MONTHLY"])
def test_the_31st_skips_shorter_months(rule: str) -> None:
    dues = chain(recurrence(rule), datetime(2026, 1, 31, 12, tzinfo=UTC), 6)
    assert [(d.month, d.day) for d in dues] == [(3, 31), (5, 31), (7, 31), (8, 31), (10, 31), (12, 31)]


def test_last_day_of_each_month() -> None:
    dues = chain(recurrence("FREQ=MONTHLY;BYMONTHDAY=-1"), datetime(2027, 12, 31, 12, tzinfo=UTC), 3)
    assert [(d.year, d.month, d.day) for d in dues] == [(2028, 1, 31), (2028, 2, 29), (2028, 3, 31)]


def test_interval() -> None:
    due = at(BERLIN, 2026, 11, 30, 8)  # a Monday
    dues = chain(recurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", BERLIN), due, 4)
    assert [wall(d, BERLIN).date().isoformat() for d in dues] == [
        "2026-12-03",
        "2026-12-14",
        "2026-12-17",
        "2026-12-28",
    ]
    assert chain(recurrence("FREQ=DAILY;INTERVAL=3"), due, 2) == [due + timedelta(days=3), due + timedelta(days=6)]


def test_yearly_on_the_leap_day() -> None:
    dues = chain(recurrence("FREQ=YEARLY"), datetime(2028, 2, 29, 9, tzinfo=UTC), 2)
    assert [d.date().isoformat() for d in dues] == ["2032-02-29", "2036-02-29"]


@pytest.mark.parametrize(
    ("until", "last"),
    [("20261203", "2026-12-03"), ("20261203T080000Z", "2026-12-03"), ("20261203T075959Z", "2026-12-02")],
)
def test_until_ends_the_recurrence(until: str, last: str) -> None:
    rule = recurrence(f"FREQ=DAILY;UNTIL={until}", BERLIN)
    due = at(BERLIN, 2026, 12, 1, 9)  # 08:00Z
    dues: list[datetime] = []
    while (following := next_due(rule, due, len(dues), due)) is not None:
        dues.append(following)
        due = following
    assert wall(dues[-1], BERLIN).date().isoformat() == last


def test_until_as_a_date_is_the_local_day() -> None:
    rule = recurrence("FREQ=DAILY;UNTIL=20261202", NEW_YORK)
    due = at(NEW_YORK, 2026, 12, 1, 22)  # 03:00Z on 2 December
    assert wall(next_due(rule, due, 0, due), NEW_YORK) == datetime(2026, 12, 2, 22)


def test_count_counts_completions() -> None:
    rule = recurrence("FREQ=DAILY;COUNT=3")
    due = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert next_due(rule, due, 0, due) == due + timedelta(days=1)
    assert next_due(rule, due, 1, due) == due + timedelta(days=1)
    assert next_due(rule, due, 2, due) is None  # the third completion completes it
    assert next_due(recurrence("FREQ=DAILY;COUNT=1"), due, 0, due) is None


# -- where the next occurrence is counted from -------------------------------------------------


def test_an_overdue_task_lands_in_the_future() -> None:
    rule = recurrence("FREQ=DAILY", BERLIN)
    due = at(BERLIN, 2026, 11, 1, 9)
    assert next_due(rule, due, 0, at(BERLIN, 2026, 11, 29, 12)) == at(BERLIN, 2026, 11, 30, 9)
    assert next_due(rule, due, 0, at(BERLIN, 2026, 11, 29, 8)) == at(BERLIN, 2026, 11, 29, 9)


def test_an_overdue_weekly_task_keeps_its_phase() -> None:
    rule = recurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", NEW_YORK)
    due = at(NEW_YORK, 2026, 10, 6, 9)  # a Tuesday; then 20 Oct, 3 Nov, 17 Nov, 1 Dec
    assert next_due(rule, due, 0, at(NEW_YORK, 2026, 11, 29, 12)) == at(NEW_YORK, 2026, 12, 1, 9)


def test_an_overdue_task_gets_the_days_of_the_current_week_before_its_weekday() -> None:
    rule = recurrence("FREQ=WEEKLY;BYDAY=MO,TU", BERLIN)
    due = at(BERLIN, 2026, 11, 4, 9)  # a Wednesday, not one of the rule's days
    assert next_due(rule, due, 0, at(BERLIN, 2026, 11, 30, 8)) == at(BERLIN, 2026, 11, 30, 9)  # Monday


def test_a_task_due_in_the_distant_past_lands_on_the_rules_next_date() -> None:
    rule = recurrence("FREQ=WEEKLY;INTERVAL=3;BYDAY=WE")
    due = datetime(1901, 1, 2, 9, tzinfo=UTC)  # a Wednesday
    following = next_due(rule, due, 0, datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert following is not None
    assert following > datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert following - datetime(2026, 11, 29, 12, tzinfo=UTC) <= timedelta(weeks=3)
    assert following.weekday() == 2 and (following - due).days % 21 == 0


def test_a_task_due_early_is_moved_past_its_due_date() -> None:
    rule = recurrence("FREQ=DAILY")
    due = datetime(2026, 12, 24, 9, tzinfo=UTC)
    assert next_due(rule, due, 0, datetime(2026, 11, 29, tzinfo=UTC)) == datetime(2026, 12, 25, 9, tzinfo=UTC)


def test_from_completion_counts_from_the_completion_day_at_the_due_time() -> None:
    rule = recurrence("FREQ=DAILY;INTERVAL=3", BERLIN, "completion")
    due = at(BERLIN, 2026, 11, 20, 9)
    assert next_due(rule, due, 0, at(BERLIN, 2026, 11, 29, 15)) == at(BERLIN, 2026, 12, 2, 9)
    # completed before the day's slot: that slot is the one just done, the next is three days on
    assert next_due(rule, due, 0, at(BERLIN, 2026, 11, 29, 7)) == at(BERLIN, 2026, 12, 2, 9)
    # completed early, before the due date: still counted from the completion day
    assert next_due(rule, at(BERLIN, 2026, 12, 10, 9), 0, at(BERLIN, 2026, 11, 29, 15)) == at(BERLIN, 2026, 12, 2, 9)


def test_from_completion_weekly_takes_the_next_listed_day() -> None:
    rule = recurrence("FREQ=WEEKLY;BYDAY=MO,TH", NEW_YORK, "completion")
    due = at(NEW_YORK, 2026, 11, 2, 18)
    assert next_due(rule, due, 0, at(NEW_YORK, 2026, 11, 29, 9)) == at(NEW_YORK, 2026, 11, 30, 18)  # Sunday -> Monday


def test_the_completion_day_is_the_tasks_local_day() -> None:
    rule = recurrence("FREQ=DAILY", "Asia/Tokyo", "completion")
    due = at("Asia/Tokyo", 2026, 11, 1, 9)
    now = datetime(2026, 11, 29, 16, tzinfo=UTC)  # already 30 November, 01:00, in Tokyo
    assert next_due(rule, due, 0, now) == at("Asia/Tokyo", 2026, 12, 1, 9)


# -- rules that never meet again end instead of searching to year 9999 ---------------------------


@pytest.mark.parametrize(
    ("rule", "due"),
    [
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", datetime(2026, 11, 30, 9, tzinfo=UTC)),  # always a Monday
        ("FREQ=MONTHLY;INTERVAL=2;BYMONTH=2", datetime(2027, 1, 5, 9, tzinfo=UTC)),  # odd months only
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", datetime(2027, 4, 5, 9, tzinfo=UTC)),  # Aprils only
    ],
)
def test_rules_the_interval_keeps_off_their_days_end(rule: str, due: datetime) -> None:
    assert next_due(recurrence(rule), due, 0, due) is None


def test_an_interval_that_meets_its_days_goes_on() -> None:
    due = datetime(2027, 3, 31, 9, tzinfo=UTC)
    assert next_due(recurrence("FREQ=MONTHLY;INTERVAL=12"), due, 0, due) == due.replace(year=2028)
    assert next_due(recurrence("FREQ=DAILY;INTERVAL=14;BYDAY=MO"), due, 0, due) is None  # a Wednesday
    assert next_due(recurrence("FREQ=DAILY;INTERVAL=14;BYDAY=WE"), due, 0, due) == due + timedelta(days=14)


def test_dates_beyond_year_9999_end_the_recurrence() -> None:
    due = datetime(9999, 12, 31, 3, tzinfo=UTC)
    assert next_due(recurrence("FREQ=DAILY", NEW_YORK), due, 0, due) is None
    assert next_due(recurrence("FREQ=YEARLY"), datetime(9999, 1, 1, tzinfo=UTC), 0, due) is None


def test_microseconds_are_kept() -> None:
    due = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert next_due(recurrence("FREQ=DAILY"), due, 0, due) == due + timedelta(days=1)
