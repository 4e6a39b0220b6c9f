"""0007_recurrence: the database refuses a recurrence the API would have refused, as a last line of defence."""

from __future__ import annotations

import asyncpg
import pytest

GOOD = '{"rule": "FREQ=DAILY", "timezone": "UTC", "from": "due"}'


async def _insert(db: asyncpg.Connection, user: str, recurrence: str | None, due: str | None) -> None:
    await db.execute(
        "INSERT INTO tasks (user_id, title, due_date, recurrence) VALUES ($1, 't', $2::text::timestamptz, $3::jsonb)",
        user,
        due,
        recurrence,
    )


async def test_a_well_formed_recurrence_with_a_due_date_is_stored(db: asyncpg.Connection, user: str) -> None:
    await _insert(db, user, GOOD, "2030-01-01Z")
    row = await db.fetchrow("SELECT completions, last_completed_at FROM tasks WHERE user_id = $1", user)
    assert row is not None and (row["completions"], row["last_completed_at"]) == (0, None)


@pytest.mark.parametrize(
    ("recurrence", "due"),
    [
        (GOOD, None),  # no due date to move on
        ('"FREQ=DAILY"', "2030-01-01Z"),
        ('{"rule": "FREQ=DAILY", "timezone": "UTC"}', "2030-01-01Z"),
        ('{"timezone": "UTC", "from": "due"}', "2030-01-01Z"),
        ("[]", "2030-01-01Z"),
        ('{"rule": "FREQ=DAILY", "timezone": "UTC", "from": "start"}', "2030-01-01Z"),
        ('{"rule": "FREQ=DAILY", "timezone": "UTC", "from": "due", "x": 1}', "2030-01-01Z"),
        ('{"rule": 1, "timezone": "UTC", "from": "due"}', "2030-01-01Z"),
        ('{"rule": "FREQ=DAILY", "timezone": null, "from": "due"}', "2030-01-01Z"),
    ],
)
async def test_a_malformed_recurrence_is_refused(
    db: asyncpg.Connection, user: str, recurrence: str, due: str | None
) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await _insert(db, user, recurrence, due)
