"""The LISTEN connection against a real PostgreSQL: a socket that dies without a word is found by the probe
and replaced, streams are told to resync, and a malformed notification is ignored.

A socket that dies silently (a network partition, a NAT that forgot the flow) is made here with a TCP
proxy that stops forwarding while keeping both sockets open: asyncpg sees nothing, only the probe can.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import pytest

from service.listener import CHANNEL, PROBE_TIMEOUT_SECONDS, Listener
from service.live import Hub, News, Subscription

PROBE_SECONDS = 0.3
HEADROOM = 3.0


class Proxy:
    """127.0.0.1 TCP in front of the test server; `freeze()` black-holes every connection open at that moment."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        query = parse_qs(parts.query)
        self._host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
        self._port = int(query.get("port", [str(parts.port or 5432)])[0])
        self._parts = parts
        self._frozen: list[asyncio.Event] = []  # one per connection: set = black hole
        self._server: asyncio.Server | None = None
        self.connections = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        auth = self._parts.username or "postgres"
        if self._parts.password:
            auth += f":{self._parts.password}"
        return urlunsplit(("postgresql", f"{auth}@127.0.0.1:{port}", self._parts.path, "", ""))

    def freeze(self) -> None:
        for frozen in self._frozen:
            frozen.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._host.startswith("/"):
            return await asyncio.open_unix_connection(f"{self._host}/.s.PGSQL.{self._port}")
        return await asyncio.open_connection(self._host, self._port)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        frozen = asyncio.Event()
        self._frozen.append(frozen)
        server_reader, server_writer = await self._upstream()

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    if not frozen.is_set():  # frozen: bytes vanish, sockets stay open, nobody is told
                        writer.write(data)
                        await writer.drain()

        try:
            await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        finally:
            for writer in (client_writer, server_writer):
                writer.close()


@pytest.fixture
async def proxy(migrated: str) -> AsyncIterator[tuple[Proxy, str]]:
    proxy = Proxy(migrated)
    url = await proxy.start()
    try:
        yield proxy, url
    finally:
        await proxy.close()


async def _news(subscription: Subscription, within: float) -> News:
    assert await subscription.wait(asyncio.get_running_loop().time() + within), "no news in time"
    return subscription.take()


async def _notify(db: asyncpg.Connection, payload: str) -> None:
    await db.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)


async def test_a_silently_dead_connection_is_found_by_the_probe_and_replaced(
    proxy: tuple[Proxy, str], db: asyncpg.Connection, user: str
) -> None:
    relay, url = proxy
    hub = Hub(max_per_user=5)
    subscription = hub.subscribe(user)
    listener = Listener(url, hub, probe_seconds=PROBE_SECONDS)
    await listener.start()
    try:
        assert listener.connections == 1 and relay.connections == 1
        subscription.take()  # the resync every fresh connection sends
        await _notify(db, f'{{"user_id": "{user}", "seq": 1, "at": 0}}')
        assert (await _news(subscription, HEADROOM)).seq == 1

        relay.freeze()
        await _notify(db, f'{{"user_id": "{user}", "seq": 2, "at": 0}}')  # lost with the frozen socket
        news = await _news(subscription, (PROBE_SECONDS + PROBE_TIMEOUT_SECONDS + 1) * HEADROOM)
        assert news.resync  # the stream will send the head, which covers the lost change
        assert listener.connections == 2  # (the proxy saw one more: asyncpg's cancel request for the probe)

        await _notify(db, f'{{"user_id": "{user}", "seq": 3, "at": 0}}')
        assert (await _news(subscription, HEADROOM)).seq == 3
    finally:
        await listener.close()


async def test_a_malformed_notification_is_ignored(migrated: str, db: asyncpg.Connection, user: str) -> None:
    hub = Hub(max_per_user=5)
    subscription = hub.subscribe(user)
    listener = Listener(migrated, hub)
    await listener.start()
    try:
        subscription.take()
        for payload in ("not json", '{"user_id": 7}', f'{{"user_id": "{user}", "seq": "x", "at": 0}}', ""):
            await _notify(db, payload)
        await _notify(db, f'{{"user_id": "{user}", "seq": 4, "at": 0}}')
        assert (await _news(subscription, HEADROOM)).seq == 4  # the ones before changed nothing
        assert listener.connections == 1
    finally:
        await listener.close()
