"""Live updates across real servers: two instances on one database, the LISTEN connection killed under them,
the per-user cap, heartbeats, the maximum duration, SIGTERM with open streams, and Bearer-only auth.

The servers are real granian processes on 127.0.0.1. One test writes through the API (end to end);
the others announce changes with the notification sent after every committed write
(`pg_notify('task_changes', ...)`), issued here directly, so they hold the listener and the streams to
the payload alone and can send bursts and stale numbers at will.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.cursors import cursor_secret
from service.feed_cursors import FeedCursorCodec
from service.listener import APPLICATION_NAME, CHANNEL
from tests.helpers import SECRET, make_token
from tests.ops.conftest import Server, metric_samples
from tests.sse import stream

# The contract's bounds, and the headroom a loaded test machine gets on top of them.
DELIVERY_SECONDS = 1.0
RESYNC_SECONDS = 5.0
SHUTDOWN_SECONDS = 10.0
HEADROOM = 3.0

CODEC = FeedCursorCodec(cursor_secret(None, SECRET, None))


def head(user: str, seq: int) -> str:
    return CODEC.head(user, seq)


async def notify(db: asyncpg.Connection, user: str, *seqs: int) -> float:
    """Announce committed changes as write transactions do, all in one transaction (delivered together at its
    commit); returns when they were sent (monotonic)."""
    await db.execute(
        "SELECT pg_notify($1, json_build_object('user_id', $2::text, 'seq', seq,"
        " 'at', extract(epoch FROM clock_timestamp()))::text) FROM unnest($3::bigint[]) AS seq",
        CHANNEL,
        user,
        list(seqs),
    )
    return time.monotonic()


def _start(database_url: str, log_file: Path, **variables: str) -> Server:
    server = Server(database_url, log_file, **variables)
    try:
        server.wait_healthy()
    except BaseException:
        server.kill()
        raise
    return server


@pytest.fixture(scope="module")
def pair(migrated_scratch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two instances on one database."""
    logs = tmp_path_factory.mktemp("live")
    first = _start(migrated_scratch_url, logs / "a.log")
    try:
        second = _start(migrated_scratch_url, logs / "b.log")
        try:
            yield first, second
        finally:
            second.kill()
    finally:
        first.kill()


@pytest.fixture(scope="module")
def brief(migrated_scratch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An instance with short streams, fast heartbeats and a cap of two streams per user."""
    server = _start(
        migrated_scratch_url,
        tmp_path_factory.mktemp("live") / "brief.log",
        SSE_HEARTBEAT_SECONDS="0.3",
        SSE_MAX_SECONDS="2",
        SSE_MAX_STREAMS_PER_USER="2",
    )
    yield server
    server.kill()


@pytest.fixture
async def notifier(migrated_scratch_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(migrated_scratch_url)
    try:
        yield connection
    finally:
        await connection.close()


def _client(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, timeout=httpx.Timeout(30.0, connect=5.0))


# -- across instances ---------------------------------------------------------------------------------


async def test_a_change_reaches_streams_on_both_instances(
    pair: tuple[Server, Server], notifier: asyncpg.Connection, user: str, other_user: str
) -> None:
    async with (
        _client(pair[0]) as a,
        _client(pair[1]) as b,
        stream(a, user) as on_a,
        stream(b, user) as on_b,
        stream(b, other_user) as others,
    ):
        for reader, owner in ((on_a, user), (on_b, user), (others, other_user)):
            first = await reader.event(within=10)
            assert first.fields == {
                "id": head(owner, 0),
                "event": "changed",
                "data": json.dumps({"cursor": head(owner, 0)}, separators=(",", ":")),
            }
        sent = await notify(notifier, user, 41)
        for reader in (on_a, on_b):
            event = await reader.event(within=DELIVERY_SECONDS * HEADROOM)
            assert time.monotonic() - sent < DELIVERY_SECONDS * HEADROOM
            assert event.fields["id"] == head(user, 41)
            assert json.loads(event.fields["data"]) == {"cursor": head(user, 41)}
        await others.quiet(0.5)  # another user's change is not this user's news


async def test_an_http_write_on_one_instance_reaches_streams_on_the_other(
    pair: tuple[Server, Server], user: str
) -> None:
    """End to end: the write path's own notification, committed on A, heard by B's listener."""
    headers = {"Authorization": f"Bearer {make_token(user)}"}
    async with _client(pair[0]) as a, _client(pair[1]) as b, stream(b, user) as on_b:
        start = await on_b.event(within=10)
        sent = time.monotonic()
        created = await a.post(f"/api/{user}/tasks", json={"title": "from A"}, headers=headers)
        assert created.status_code == 201, created.text
        event = await on_b.event(within=DELIVERY_SECONDS * HEADROOM)
        assert time.monotonic() - sent < DELIVERY_SECONDS * HEADROOM
        assert event.fields["id"] != start.fields["id"]
        # The event's cursor is at or after the change: the feed read from it no longer holds it.
        feed = await b.get(f"/api/{user}/tasks/changes", params={"cursor": event.fields["id"]}, headers=headers)
        assert feed.status_code == 200, feed.text
        assert feed.json()["data"] == {"changed": [], "deleted": []}
        task = created.json()["data"]
        # A write that changes nothing advances nothing, so it sends nothing.
        same = await a.patch(f"/api/{user}/tasks/{task['id']}", json={"title": "from A"}, headers=headers)
        assert same.status_code == 200 and same.json()["data"]["version"] == task["version"]
        await on_b.quiet(1.0)
        deleted = await a.delete(f"/api/{user}/tasks/{task['id']}", headers=headers)
        assert deleted.status_code == 204
        event = await on_b.event(within=DELIVERY_SECONDS * HEADROOM)
        feed = await b.get(f"/api/{user}/tasks/changes", params={"cursor": start.fields["id"]}, headers=headers)
        assert [t["id"] for t in feed.json()["data"]["deleted"]] == [task["id"]]
        assert feed.json()["meta"]["next_cursor"] == event.fields["id"]


async def test_a_burst_is_merged_and_never_replayed(
    pair: tuple[Server, Server], notifier: asyncpg.Connection, user: str
) -> None:
    async with _client(pair[1]) as b, stream(b, user) as reader:
        await reader.event(within=10)
        await notify(notifier, user, *range(1, 51))
        seen: list[str] = []
        while not seen or seen[-1] != head(user, 50):
            seen.append((await reader.event(within=DELIVERY_SECONDS * HEADROOM)).fields["id"])
        assert len(seen) < 10  # merged: a stream that is behind gets the newest head, not a backlog
        await notify(notifier, user, 50)  # nothing new for this client
        await notify(notifier, user, 12)  # nor an old change arriving late
        await reader.quiet(0.5)


async def test_last_event_id_at_the_head_defers_the_first_event(
    pair: tuple[Server, Server], notifier: asyncpg.Connection, user: str
) -> None:
    async with _client(pair[0]) as a:
        async with stream(a, user, {"Last-Event-ID": head(user, 0)}) as reader:
            await reader.quiet(0.5)
            await notify(notifier, user, 1)
            assert (await reader.event(within=DELIVERY_SECONDS * HEADROOM)).fields["id"] == head(user, 1)
        async with stream(a, user, {"Last-Event-ID": "some-older-cursor"}) as reader:
            assert (await reader.event(within=10)).fields["id"] == head(user, 0)


async def test_streams_hear_of_changes_after_the_listen_connection_is_killed(
    pair: tuple[Server, Server], notifier: asyncpg.Connection, user: str
) -> None:
    async with _client(pair[0]) as a, _client(pair[1]) as b:
        reconnects_before = _reconnects(await a.get("/metrics"))
        async with stream(a, user) as on_a, stream(b, user) as on_b:
            for reader in (on_a, on_b):
                await reader.event(within=10)
            killed = await notifier.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
            assert len(killed) >= 2  # one LISTEN connection per instance (one worker each), others of this database
            # Changes may have been missed while no connection listened: every stream is told.
            for reader in (on_a, on_b):
                event = await reader.event(within=RESYNC_SECONDS * HEADROOM)
                assert event.fields["id"] == head(user, 0)
            sent = await notify(notifier, user, 7)
            for reader in (on_a, on_b):
                assert (await reader.event(within=DELIVERY_SECONDS * HEADROOM)).fields["id"] == head(user, 7)
            assert time.monotonic() - sent < DELIVERY_SECONDS * HEADROOM
        assert _reconnects(await a.get("/metrics")) >= reconnects_before + 1


def _reconnects(response: httpx.Response) -> float:
    return sum(value for _, value in metric_samples(response.text, "tasks_listener_reconnects_total"))


async def test_stream_metrics(pair: tuple[Server, Server], notifier: asyncpg.Connection, user: str) -> None:
    async with _client(pair[0]) as a:
        async with stream(a, user) as reader:
            await reader.event(within=10)
            await notify(notifier, user, 3)
            await reader.event(within=DELIVERY_SECONDS * HEADROOM)
            text = (await a.get("/metrics")).text
            assert metric_samples(text, "tasks_sse_streams_open")[0][1] >= 1
        sent = {labels["reason"]: value for labels, value in metric_samples(text, "tasks_sse_events_total")}
        assert sent["first"] >= 1 and sent["change"] >= 1
        assert metric_samples(text, "tasks_sse_event_delay_seconds_count")[0][1] >= 1


# -- one instance ---------------------------------------------------------------------------------------


async def test_the_exact_bytes_of_a_stream_with_heartbeats(brief: Server, user: str) -> None:
    """`retry` first, the head at once, then `: ping` blocks with no empty `data:` line, until the end."""
    async with _client(brief) as client:
        headers = {"Authorization": f"Bearer {make_token(user)}"}
        started = time.monotonic()
        async with client.stream("GET", f"/api/{user}/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers.get_list("cache-control") == ["no-store"]  # once; no cache keeps or holds it
            assert response.headers["x-accel-buffering"] == "no"
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        lasted = time.monotonic() - started
    cursor = head(user, 0)
    first = f'retry: 3000\r\n\r\nid: {cursor}\r\nevent: changed\r\ndata: {{"cursor":"{cursor}"}}\r\n\r\n'.encode()
    assert body.startswith(first)
    rest = body[len(first) :]
    pings = rest.count(b": ping\r\n\r\n")
    assert rest == b": ping\r\n\r\n" * pings  # nothing else: no empty data line, no stray event
    assert 3 <= pings <= 7  # every 0.3 s over a 2 s stream, give or take a loaded machine
    assert 1.8 <= lasted < 2 + HEADROOM  # the server ended it after SSE_MAX_SECONDS


async def test_the_per_user_stream_cap(brief: Server, user: str, other_user: str) -> None:
    async with _client(brief) as client, stream(client, user) as one, stream(client, user):
        await one.event(within=10)
        response = await client.get(f"/api/{user}/events", headers={"Authorization": f"Bearer {make_token(user)}"})
        assert response.status_code == 429
        assert response.headers["retry-after"].isdigit()
        body = response.json()
        assert body["status"] == "error" and body["code"] == "TOO_MANY_STREAMS" and body["details"] is None
        async with stream(client, other_user) as others:  # the cap is per user
            await others.event(within=10)


async def test_a_closed_stream_frees_its_place(brief: Server, user: str) -> None:
    async with _client(brief) as client:
        for _ in range(2):
            async with stream(client, user) as reader:
                await reader.event(within=10)
        async with stream(client, user), stream(client, user) as second:  # both places are free again
            await second.event(within=10)


@pytest.mark.parametrize(
    "url",
    [
        "/api/{user}/events?access_token={token}",
        "/api/{user}/events?token={token}",
        "/api/{user}/events?authorization=Bearer%20{token}",
    ],
)
async def test_a_token_in_the_url_is_not_accepted(brief: Server, user: str, url: str) -> None:
    async with _client(brief) as client:
        response = await client.get(url.format(user=user, token=make_token(user)))
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_another_users_stream_is_forbidden(brief: Server, user: str, other_user: str) -> None:
    async with _client(brief) as client:
        response = await client.get(
            f"/api/{other_user}/events", headers={"Authorization": f"Bearer {make_token(user)}"}
        )
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


async def test_sigterm_ends_open_streams_and_the_server_exits(
    migrated_scratch_url: str, tmp_path: Path, user: str
) -> None:
    server = _start(migrated_scratch_url, tmp_path / "server.log")
    try:
        async with _client(server) as client, stream(client, user) as one, stream(client, user) as two:
            for reader in (one, two):
                await reader.event(within=10)
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            for reader in (one, two):
                assert await reader.block(within=SHUTDOWN_SECONDS) is None  # the stream ended
                assert reader.error is None  # cleanly: the last chunk, not a dropped connection
            assert time.monotonic() - signalled < SHUTDOWN_SECONDS
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(server.process.wait, signalled + SHUTDOWN_SECONDS + HEADROOM - time.monotonic())
        assert server.process.returncode == 0, f"still running or failed after SIGTERM:\n{server.log()}"
        assert "Traceback" not in server.log(), server.log()
        assert "refused to gracefully stop" not in server.log(), server.log()
    finally:
        server.kill()
