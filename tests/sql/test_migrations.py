"""The real migrations: apply, re-apply as a no-op, roll back, apply again; and the CHECKs as the last line."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import psycopg
import pytest

from service import migrate
from tests.helpers import create_scratch_database, drop_database, with_database


def _has_tasks_table(url: str) -> bool:
    with psycopg.connect(url) as db:
        row = db.execute("SELECT to_regclass('public.tasks') IS NOT NULL").fetchone()
    assert row is not None
    return bool(row[0])


def test_apply_is_idempotent_and_rollback_undoes_it(server_url: str) -> None:
    try:
        name = create_scratch_database(server_url, "migr")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test server does not allow CREATE DATABASE")
    url = with_database(server_url, name)
    try:
        assert not _has_tasks_table(url)
        assert migrate.apply(url) > 0
        assert _has_tasks_table(url)

        assert migrate.apply(url) == 0
        assert _has_tasks_table(url)

        assert migrate.rollback_all(url) > 0
        assert not _has_tasks_table(url)

        assert migrate.apply(url) > 0
        assert _has_tasks_table(url)
    finally:
        drop_database(server_url, name)


# -- the database's own checks, bypassing the API -------------------------------------------------


def _row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "user_id": f"user_{uuid.uuid4().hex[:12]}",
        "title": "A task",
        "status": "pending",
        "tags": [],
        "completed_at": None,
    }
    row.update(overrides)
    return row


async def _insert(db: asyncpg.Connection, row: dict[str, Any]) -> None:
    """Insert inside a transaction that is always rolled back, so nothing is left behind."""
    transaction = db.transaction()
    await transaction.start()
    try:
        await db.execute(
            "INSERT INTO tasks (user_id, title, status, tags, completed_at) VALUES ($1, $2, $3, $4, $5)",
            row["user_id"],
            row["title"],
            row["status"],
            row["tags"],
            row["completed_at"],
        )
    finally:
        await transaction.rollback()


async def test_a_valid_row_is_accepted(db: asyncpg.Connection) -> None:
    await _insert(db, _row(title="x" * 500, tags=[f"t{i}" for i in range(20)]))
    await _insert(db, _row(status="completed", completed_at=await db.fetchval("SELECT now()")))


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(_row(title="x" * 501), id="title-501-chars"),
        pytest.param(_row(title=""), id="empty-title"),
        pytest.param(_row(status="done"), id="bad-status"),
        pytest.param(_row(tags=[f"t{i}" for i in range(21)]), id="21-tags"),
        pytest.param(_row(status="completed"), id="completed-without-completed-at"),
        pytest.param(_row(user_id=""), id="empty-user-id"),
    ],
)
async def test_check_constraints_reject(db: asyncpg.Connection, row: dict[str, Any]) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await _insert(db, row)
