"""Graceful shutdown of the real server: SIGTERM lets an in-flight request finish, refuses new ones, exits 0."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import asyncpg
import httpx
import pytest

from tests.helpers import auth
from tests.ops.conftest import Server

EXIT_TIMEOUT = 30.0


async def _wait_for_lock_waiter(connection: asyncpg.Connection, within: float = 10.0) -> None:
    """Until a backend of the server is blocked on a row lock: the PATCH has reached the database."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name = 'tasks-service'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the PATCH never reached the row lock")


async def _exit_code(server: Server) -> int:
    deadline = time.monotonic() + EXIT_TIMEOUT
    while (code := server.process.poll()) is None:
        assert time.monotonic() < deadline, f"server still running {EXIT_TIMEOUT} s after SIGTERM:\n{server.log()}"
        await asyncio.sleep(0.1)
    return code


async def test_sigterm_finishes_in_flight_request_and_exits_cleanly(
    migrated_scratch_url: str, start_server: Callable[..., Server], user: str
) -> None:
    server = start_server(migrated_scratch_url)
    timeout = httpx.Timeout(20.0, connect=2.0)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=timeout) as client:
        created = await client.post(f"/api/{user}/tasks", json={"title": "before the deploy"}, headers=auth(user))
        assert created.status_code == 201, created.text
        task_id = created.json()["data"]["id"]

        locker = await asyncpg.connect(migrated_scratch_url)
        try:
            transaction = locker.transaction()
            await transaction.start()
            locked = await locker.fetchval(
                "SELECT id FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE", user, task_id
            )
            assert str(locked) == task_id
            patch = asyncio.create_task(
                client.patch(f"/api/{user}/tasks/{task_id}", json={"title": "during the deploy"}, headers=auth(user))
            )
            await _wait_for_lock_waiter(locker)
            assert not patch.done()

            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            assert not patch.done(), "the PATCH ended before its lock was released"

            # A new connection after SIGTERM is not served.
            async with httpx.AsyncClient(base_url=server.base_url, timeout=httpx.Timeout(3.0)) as late:
                with pytest.raises(httpx.ConnectError):
                    await late.get("/health")

            await transaction.commit()
        finally:
            await locker.close()

        response = await asyncio.wait_for(patch, timeout=20.0)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["title"] == "during the deploy"
        assert response.json()["data"]["version"] == 2

    code = await _exit_code(server)
    assert code == 0, f"exit code {code}:\n{server.log()}"
    assert "Traceback" not in server.log(), server.log()
