"""The purge: old tombstones and their idempotency keys go, the horizon rises with them, old cursors get 410."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.config import Settings
from service.purge import purge
from tests.feed.sync import Replica, pull
from tests.helpers import auth, create_task, service_env

Client = AsyncTestClient[Litestar]
REPO = Path(__file__).resolve().parents[2]


async def _backdate(db: asyncpg.Connection, user: str, task_id: str, days: int) -> None:
    await db.execute(
        "UPDATE tasks SET deleted_at = deleted_at - make_interval(days => $3) WHERE user_id = $1 AND id = $2",
        user,
        task_id,
        days,
    )


async def _delete(client: Client, user: str, task_id: str) -> None:
    assert (await client.delete(f"/api/{user}/tasks/{task_id}", headers=auth(user))).status_code == 204


async def _expired(client: Client, user: str, cursor: str) -> None:
    response = await client.get(f"/api/{user}/tasks/changes", params={"cursor": cursor}, headers=auth(user))
    assert response.status_code == 410, response.text
    body = response.json()
    assert body["code"] == "SYNC_CURSOR_EXPIRED"
    assert body["details"] is None


async def test_purge_drops_old_tombstones_raises_the_horizon_and_old_cursors_get_410(
    client: Client, db: asyncpg.Connection, settings: Settings, user: str
) -> None:
    keyed = await client.post(
        f"/api/{user}/tasks", json={"title": "keyed"}, headers={**auth(user), "Idempotency-Key": "purge-me"}
    )
    old, recent, kept = keyed.json()["data"], await create_task(client, user), await create_task(client, user)
    before = Replica()
    await before.sync(client, user)
    await _delete(client, user, old["id"])
    await _backdate(db, user, old["id"], 40)
    old_seq = await db.fetchval("SELECT change_seq FROM tasks WHERE user_id = $1 AND id = $2", user, old["id"])
    between = Replica(dict(before.tasks), before.cursor)
    await between.sync(client, user)
    await _delete(client, user, recent["id"])

    assert settings.database_url is not None
    report = await purge(settings, settings.database_url)
    assert report.tombstones >= 1

    rows = await db.fetch("SELECT id::text, status FROM tasks WHERE user_id = $1", user)
    assert {row["id"]: row["status"] for row in rows} == {recent["id"]: "deleted", kept["id"]: "pending"}
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE user_id = $1", user) == 0
    assert await db.fetchval("SELECT horizon FROM task_sync WHERE user_id = $1", user) == old_seq

    assert before.cursor is not None and between.cursor is not None
    await _expired(client, user, before.cursor)  # it would have needed the purged tombstone
    await between.sync(client, user)  # it had already seen that deletion
    assert set(between.tasks) == {kept["id"]}
    fresh = Replica()
    await fresh.sync(client, user)
    assert set(fresh.tasks) == {kept["id"]}

    # The key of the purged task is free again.
    again = await client.post(
        f"/api/{user}/tasks", json={"title": "keyed"}, headers={**auth(user), "Idempotency-Key": "purge-me"}
    )
    assert again.status_code == 201 and again.json()["data"]["id"] != old["id"]


async def test_a_full_sync_survives_a_purge_of_what_it_never_needed_and_not_of_what_it_did(
    client: Client, db: asyncpg.Connection, settings: Settings, user: str
) -> None:
    assert settings.database_url is not None
    first, second, third = [await create_task(client, user, title=f"t{n}") for n in range(3)]
    await _delete(client, user, first["id"])
    await _backdate(db, user, first["id"], 40)  # deleted before the walk: the walk never needs it
    walk = Replica()
    walk.apply(await pull(client, user, limit=1))
    assert walk.pages[0]["meta"]["has_more"]
    await purge(settings, settings.database_url)
    await walk.sync(client, user, limit=1)
    assert set(walk.tasks) == {second["id"], third["id"]}

    late = Replica()
    late.apply(await pull(client, user, limit=1))
    await _delete(client, user, third["id"])  # deleted during this walk, then purged: the walk cannot finish
    await _backdate(db, user, third["id"], 40)
    await purge(settings, settings.database_url)
    assert late.cursor is not None
    await _expired(client, user, late.cursor)


async def test_purge_keeps_tombstones_within_the_retention(
    client: Client, db: asyncpg.Connection, settings: Settings, user: str
) -> None:
    task = await create_task(client, user)
    await _delete(client, user, task["id"])
    await _backdate(db, user, task["id"], 29)
    assert settings.database_url is not None
    await purge(settings, settings.database_url)
    assert await db.fetchval("SELECT status FROM tasks WHERE user_id = $1 AND id = $2", user, task["id"]) == "deleted"
    assert await db.fetchval("SELECT horizon FROM task_sync WHERE user_id = $1", user) == 0
    await _backdate(db, user, task["id"], 2)
    report = await purge(settings, settings.database_url)
    assert report.users >= 1
    assert await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user) == 0


def test_the_purge_command_runs(migrated: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "purge"],
        cwd=REPO,
        env=service_env(DATABASE_URL=migrated, SYNC_RETENTION_DAYS="30"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "purge:" in result.stderr and "older than 30 days" in result.stderr
