"""The change counter's head: 0 before a user's first write, read through the gateway the live stream uses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from service.config import Settings
from service.gateway import Gateway


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    assert settings.database_url is not None
    opened = await Gateway.open(settings, settings.database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_head_is_zero_for_a_user_who_never_wrote(gateway: Gateway, user: str) -> None:
    assert await gateway.head_seq(user) == 0


async def test_head_reads_the_users_counter_and_only_it(
    gateway: Gateway, db: asyncpg.Connection, user: str, other_user: str
) -> None:
    await db.execute("INSERT INTO task_sync (user_id, change_seq) VALUES ($1, 41), ($2, 7)", user, other_user)
    assert await gateway.head_seq(user) == 41
    assert await gateway.head_seq(other_user) == 7
