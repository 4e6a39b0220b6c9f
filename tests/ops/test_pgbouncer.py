"""Behind PgBouncer in transaction mode (Neon's pooled URL): migrations, the core flows and concurrency all work,
with fewer server connections than clients, and the app really talks to the pooler."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service import migrate
from service.app import create_app
from service.gateway import Gateway
from tests.helpers import auth, create_scratch_database, create_task, drop_database, make_settings, with_database
from tests.ops.conftest import free_port

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
if PGBOUNCER is None:
    pytest.skip("pgbouncer binary not found; CI installs the Debian package", allow_module_level=True)

POOL_SIZE = 3  # server connections per database: fewer than the app's pool (10) and than the clients (30)
START_TIMEOUT = 10.0
MIGRATIONS = [p for p in migrate.MIGRATIONS.glob("*.sql") if not p.name.endswith(".rollback.sql")]


class PgBouncer:
    """A real pgbouncer in front of the test server, in the foreground, as a child of this test."""

    def __init__(self, server_url: str) -> None:
        parts = urlsplit(server_url)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
        port = int(query.get("port", [str(parts.port or 5432)])[0])
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.directory.chmod(0o777)  # pgbouncer refuses root: as root it runs as the database's system user
        ini = self.directory / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={host} port={port} user=postgres\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = any\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {POOL_SIZE}\n"
            "max_client_conn = 200\n"
            f"logfile = {self.directory / 'pgbouncer.log'}\n"
        )
        ini.chmod(0o644)
        user = "embedded_postgres" if os.geteuid() == 0 else None
        self.process = subprocess.Popen(
            [str(PGBOUNCER), str(ini)],
            user=user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_ready()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pgbouncer exited with {self.process.returncode}:\n{self.log()}")
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2) as connection:
                    connection.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"pgbouncer not accepting connections within {START_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def bounced_database(server_url: str) -> Iterator[tuple[PgBouncer, str]]:
    """pgbouncer, and the name of a scratch database (created directly on the server) to reach through it."""
    name = create_scratch_database(server_url, "tasks_bouncer")
    bouncer = PgBouncer(server_url)
    try:
        yield bouncer, name
    finally:
        bouncer.stop()
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def bounced_url(bounced_database: tuple[PgBouncer, str]) -> str:
    bouncer, name = bounced_database
    assert migrate.apply(bouncer.url(name)) == len(MIGRATIONS)
    return bouncer.url(name)


@contextlib.asynccontextmanager
async def bounced_client(url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(url, db_statement_cache_size=0, db_pool_max_size=10))
    async with AsyncTestClient(app) as client:
        yield client


async def test_migrations_through_pgbouncer_are_complete(server_url: str, bounced_url: str) -> None:
    direct = with_database(server_url, urlsplit(bounced_url).path.lstrip("/"))
    connection = await asyncpg.connect(direct)
    try:
        tables = {r["tablename"] for r in await connection.fetch("SELECT tablename FROM pg_tables")}
        assert "tasks" in tables
        assert await connection.fetchval("SELECT count(*) FROM _yoyo_migration") == len(MIGRATIONS)
        assert migrate.apply(bounced_url) == 0
    finally:
        await connection.close()


async def test_core_flows_through_pgbouncer(bounced_url: str, user: str) -> None:
    async with bounced_client(bounced_url) as client:
        headers = auth(user)
        created = await client.post(f"/api/{user}/tasks", json={"title": "pooled", "priority": "low"}, headers=headers)
        assert created.status_code == 201, created.text
        assert created.headers["etag"] == '"1"'
        task_id = created.json()["data"]["id"]
        assert created.headers["location"].endswith(f"/api/{user}/tasks/{task_id}")

        got = await client.get(f"/api/{user}/tasks/{task_id}", headers=headers)
        assert got.status_code == 200, got.text
        assert got.headers["etag"] == '"1"'
        not_modified = await client.get(f"/api/{user}/tasks/{task_id}", headers={**headers, "If-None-Match": '"1"'})
        assert not_modified.status_code == 304

        high = {(await create_task(client, user, title=f"high {i}", priority="high"))["id"] for i in range(5)}
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            params = {"priority": "high", "limit": "2", **({"cursor": cursor} if cursor else {})}
            page = await client.get(f"/api/{user}/tasks", params=params, headers=headers)
            assert page.status_code == 200, page.text
            assert page.json()["meta"]["total"] == 5
            seen += [task["id"] for task in page.json()["data"]]
            if (cursor := page.json()["meta"]["next_cursor"]) is None:
                break
        assert sorted(seen) == sorted(high) and len(seen) == 5

        path = f"/api/{user}/tasks/{task_id}"
        patched = await client.patch(path, json={"title": "renamed"}, headers={**headers, "If-Match": '"1"'})
        assert patched.status_code == 200, patched.text
        assert patched.json()["data"]["version"] == 2
        stale = await client.patch(path, json={"title": "again"}, headers={**headers, "If-Match": '"1"'})
        assert stale.status_code == 412, stale.text

        done = await client.patch(f"{path}/complete", headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["data"]["status"] == "completed" and done.json()["data"]["completed_at"] is not None
        undone = await client.patch(f"{path}/complete", headers=headers)
        assert undone.status_code == 200, undone.text
        assert undone.json()["data"]["status"] == "pending" and undone.json()["data"]["completed_at"] is None

        deleted = await client.delete(path, headers=headers)
        assert deleted.status_code == 204, deleted.text
        gone = await client.get(path, headers=headers)
        assert gone.status_code == 404, gone.text


@contextlib.asynccontextmanager
async def concurrent_client(url: str) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    """Requests really in parallel: AsyncTestClient runs them one at a time in a portal thread; this runs the app
    (and its lifespan) in the test's own loop."""
    app = create_app(make_settings(url, db_statement_cache_size=0, db_pool_max_size=10))
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # httpx types ASGI apps loosely
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield app, client


async def server_backends(server_url: str, database: str) -> dict[str, int]:
    """The server's own view of who is connected to `database`: client backends, and those waiting on a lock."""
    observer = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        row = await observer.fetchrow(
            "SELECT count(*) AS connected, count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting"
            " FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> $2",
            database,
            observer.get_server_pid(),
        )
        assert row is not None
        return dict(row)
    finally:
        await observer.close()


async def test_concurrent_idempotent_creates_make_one_task(bounced_url: str, user: str) -> None:
    async with concurrent_client(bounced_url) as (_, client):
        headers = {**auth(user), "Idempotency-Key": "pooled-create-1"}
        body = {"title": "exactly once", "tags": ["pool"]}
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.post(f"/api/{user}/tasks", json=body, headers=headers) for _ in range(10))), 30
        )
        assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses if r.status_code != 201]
        assert len({r.json()["data"]["id"] for r in responses}) == 1
        listed = await client.get(f"/api/{user}/tasks", headers=auth(user))
        assert listed.json()["meta"]["total"] == 1, listed.text


async def test_thirty_concurrent_reads(bounced_url: str, user: str) -> None:
    async with concurrent_client(bounced_url) as (_, client):
        created = await client.post(f"/api/{user}/tasks", json={"title": "read by many"}, headers=auth(user))
        assert created.status_code == 201, created.text
        path = f"/api/{user}/tasks/{created.json()['data']['id']}"
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.get(path, headers=auth(user)) for _ in range(30))), 30
        )
        assert [r.status_code for r in responses] == [200] * 30, [r.text for r in responses if r.status_code != 200]


async def test_many_client_connections_share_few_server_connections(
    server_url: str, bounced_url: str, user: str
) -> None:
    """Ten PATCHes blocked on one row lock hold ten app connections, but the server sees only pgbouncer's three."""
    database = urlsplit(bounced_url).path.lstrip("/")
    async with concurrent_client(bounced_url) as (app, client):
        created = await client.post(f"/api/{user}/tasks", json={"title": "contended"}, headers=auth(user))
        assert created.status_code == 201, created.text
        task_id = created.json()["data"]["id"]
        locker = await asyncpg.connect(with_database(server_url, database))
        try:
            transaction = locker.transaction()
            await transaction.start()
            await locker.execute("SELECT 1 FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE", user, task_id)
            patches = [
                asyncio.create_task(
                    client.patch(f"/api/{user}/tasks/{task_id}", json={"tags": [f"t{i}"]}, headers=auth(user))
                )
                for i in range(10)
            ]
            deadline = time.monotonic() + 4.0
            seen = await server_backends(server_url, database)
            while seen["waiting"] < POOL_SIZE and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                seen = await server_backends(server_url, database)
            await asyncio.sleep(0.2)  # give a direct connection, if there were one, time to show up
            seen = await server_backends(server_url, database)
            gateway: Gateway = app.state.gateway
            opened = gateway.pool_size()
            await transaction.commit()
        finally:
            await locker.close()
        responses = await asyncio.wait_for(asyncio.gather(*patches), 30)
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses if r.status_code != 200]
    assert max(r.json()["data"]["version"] for r in responses) == 11
    assert opened == 10, f"the app held {opened} connections"
    # Our own locking connection is one of the backends; the rest are pgbouncer's, never more than its pool.
    assert seen["waiting"] == POOL_SIZE, seen
    assert seen["connected"] <= POOL_SIZE + 1, seen


async def test_without_pgbouncer_the_app_answers_503(server_url: str, bounced_url: str, user: str) -> None:
    name = urlsplit(bounced_url).path.lstrip("/")
    own = PgBouncer(server_url)  # its own, so stopping it leaves the module's pgbouncer to the other tests
    try:
        async with bounced_client(own.url(name)) as client:
            task = await create_task(client, user, title="then the pooler goes away")
            own.stop()
            response = await client.get(f"/api/{user}/tasks/{task['id']}", headers=auth(user))
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "SERVICE_UNAVAILABLE"
            assert response.headers.get("retry-after", "").isdigit()
            ready = await client.get("/health/ready")
            assert ready.status_code == 503, ready.text
    finally:
        own.stop()


async def test_the_change_feed_through_pgbouncer(bounced_url: str, user: str) -> None:
    """Concurrent writes and feed walks through the pooler: the replica ends equal to the live tasks, and the
    change-counter locking (one statement per write) needs no session state the pooler would lose."""
    from tests.feed.sync import Replica

    async with concurrent_client(bounced_url) as (_, client):
        headers = auth(user)
        replica = Replica()
        await replica.sync(client, user, limit=3)
        created = await asyncio.wait_for(
            asyncio.gather(
                *(client.post(f"/api/{user}/tasks", json={"title": f"t{i}"}, headers=headers) for i in range(12))
            ),
            30,
        )
        ids = [response.json()["data"]["id"] for response in created]
        writes = [client.patch(f"/api/{user}/tasks/{task_id}/complete", headers=headers) for task_id in ids[:6]]
        writes += [client.delete(f"/api/{user}/tasks/{task_id}", headers=headers) for task_id in ids[6:9]]
        walks = [Replica().sync(client, user, limit=2) for _ in range(3)]
        answers, _ = await asyncio.wait_for(
            asyncio.gather(asyncio.gather(*writes), asyncio.gather(*walks, replica.sync(client, user, limit=4))), 60
        )
        assert [r.status_code for r in answers] == [200] * 6 + [204] * 3
        await replica.sync(client, user, limit=4)
        listed = await client.get(f"/api/{user}/tasks", params={"limit": 100}, headers=headers)
        assert replica.tasks == {task["id"]: task for task in listed.json()["data"]}
        assert sorted(replica.tasks) == sorted(ids[:6] + ids[9:])
