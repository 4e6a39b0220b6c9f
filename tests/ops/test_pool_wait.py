"""Waiting for a pooled connection: 503 when the pool is held by slow statements, a queue when the worker is busy.

DB_POOL_TIMEOUT_SECONDS is the patience for a pool that gives no connection back; a CPU-saturated worker
whose connections keep coming back makes its requests wait in line instead (service/gateway.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from service import gateway as gateway_module
from service.config import Settings
from service.errors import Unavailable
from service.gateway import Gateway
from tests.helpers import make_settings

PATIENCE = 0.3
PROMPT = 10.0  # generous: the machine is loaded; the slow statement below holds the pool for 60 s


@pytest.fixture
async def small_pool(migrated: str) -> AsyncIterator[Gateway]:
    settings: Settings = make_settings(
        migrated, db_pool_min_size=1, db_pool_max_size=1, db_pool_timeout_seconds=PATIENCE
    )
    opened = await Gateway.open(settings, migrated)
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_pool_held_by_a_slow_statement_answers_503_promptly(small_pool: Gateway, user: str) -> None:
    taken = asyncio.Event()

    async def slow() -> None:
        async with small_pool._connection() as connection:
            taken.set()
            await connection.execute("SELECT pg_sleep(60)", timeout=90)

    holder = asyncio.create_task(slow())
    await taken.wait()
    started = time.monotonic()
    try:
        with pytest.raises(Unavailable):
            await small_pool.head_seq(user)
        assert time.monotonic() - started < PROMPT
        assert small_pool.waiting == 0
    finally:
        holder.cancel()
        with pytest.raises((asyncio.CancelledError, Unavailable)):
            await holder


async def test_a_saturated_worker_queues_every_request_instead_of_503(small_pool: Gateway, user: str) -> None:
    """Each request burns CPU on the event loop after its statement, as encoding a big page does: the
    last ones wait many patience spans for the one connection, and all of them are answered."""
    requests = 60
    busy_seconds = 12 * PATIENCE / requests  # in all, many times the patience

    async def request() -> int:
        head = await small_pool.head_seq(user)
        deadline = time.perf_counter() + busy_seconds
        while time.perf_counter() < deadline:  # the worker's CPU, not the database
            pass
        return head

    started = time.monotonic()
    answers = await asyncio.gather(*(request() for _ in range(requests)), return_exceptions=True)
    assert [a for a in answers if isinstance(a, BaseException)] == []
    assert time.monotonic() - started > PATIENCE  # the queue outlasted the patience, so it was tested
    assert small_pool.waiting == 0


async def test_the_queue_is_bounded_even_while_the_pool_makes_progress(
    small_pool: Gateway, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_module, "MAX_QUEUE_SECONDS", 0.0)

    taken = asyncio.Event()

    async def hold() -> None:
        async with small_pool._connection():
            taken.set()
            await asyncio.sleep(3 * PATIENCE)

    holder = asyncio.create_task(hold())
    await taken.wait()
    small_pool._served += 1  # progress, yet the bound of 0 s ends the wait at the first check
    with pytest.raises(Unavailable):
        await small_pool.head_seq(user)
    await holder
