"""Shared fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL), the migrated schema, the app, tokens.

Every test gets a fresh random user id, so tests never need to truncate: every row is keyed by user.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service import migrate
from service.app import create_app
from service.config import Settings
from tests.helpers import create_scratch_database, drop_database, make_settings, with_database

TEST_RUNS = Path(__file__).resolve().parents[1] / ".data" / "test-runs"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_abandoned_runs(devdb: Any) -> None:
    """Servers of test runs that were killed before their teardown: stop them and free the disk."""
    for run in TEST_RUNS.glob("*"):
        if run.name.isdigit() and not _alive(int(run.name)):
            devdb.stop(run)
            shutil.rmtree(run, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """TEST_DATABASE_URL, or an embedded PostgreSQL of this run's own, stopped and removed at the end.

    One server per run, so two runs on one machine (two terminals, helpers) never stop each other's.
    """
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    from service import devdb

    TEST_RUNS.mkdir(parents=True, exist_ok=True)
    _sweep_abandoned_runs(devdb)
    data_dir = TEST_RUNS / str(os.getpid())
    url = devdb.start(data_dir)
    try:
        yield url
    finally:
        devdb.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this run when the server allows it; TEST_DATABASE_URL's own database otherwise."""
    try:
        name = create_scratch_database(server_url, "tasks_test")
    except psycopg.errors.InsufficientPrivilege:
        yield server_url
        return
    try:
        yield with_database(server_url, name)
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    migrate.apply(database_url)
    return database_url


@pytest.fixture(scope="session")
def settings(migrated: str) -> Settings:
    return make_settings(migrated)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
async def db(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection, for asserting what the API did (or did not) write."""
    connection = await asyncpg.connect(migrated)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def other_user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"
