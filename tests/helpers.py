"""Helpers for tests: settings, tokens, auth headers, a task factory and scratch databases."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import jwt
import psycopg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.config import VARIABLES, Settings

SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": SECRET,
        "db_pool_min_size": 1,
        "db_pool_max_size": 10,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


def make_token(user_id: str, *, secret: str = SECRET, ttl: int = 3600, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + ttl}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def auth(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user_id)}"}


async def create_task(client: AsyncTestClient[Litestar], user_id: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "A task", **fields}
    response = await client.post(f"/api/{user_id}/tasks", json=body, headers=auth(user_id))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


def service_env(**variables: str) -> dict[str, str]:
    """The parent's environment without any service setting (nor TEST_DATABASE_URL), plus `variables`."""
    hidden = {*VARIABLES, "TEST_DATABASE_URL"}
    environ = {k: v for k, v in os.environ.items() if k not in hidden}
    environ.update(variables)
    return environ


def with_database(url: str, name: str) -> str:
    """The same server, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def create_scratch_database(server: str, prefix: str) -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def service_waits_on_a_lock(db: asyncpg.Connection, within: float = 10.0) -> None:
    """Return once one of the service's connections waits for a lock (a write queued behind another
    transaction's counter or row lock); fail the test if none does within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        waiting = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'tasks-service' AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no write of the service waited for a lock")
