"""The LISTEN connection: one per process, outside the pool, feeding the hub.

Every write that changes a user's tasks is announced with `pg_notify('task_changes', ...)` once it has
committed (service/notices.py, a batch per statement); PostgreSQL delivers it to every listening
session, on every worker and instance. The connection is the
process's own (a pooled one would be handed to requests, and PgBouncer in transaction mode cannot
LISTEN at all), so nothing here ever waits for, or delays, a write.

asyncpg reports a connection the server closed (its termination listener), but not a socket that died
silently: a short ping every few seconds finds those. Whenever a connection is (re)established, every
open stream is told to send the head again, since changes may have been missed while none listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from urllib.parse import urlsplit

import asyncpg
import msgspec

from service import metrics
from service.gateway import PING
from service.live import Hub

log = logging.getLogger("service.listener")

CHANNEL = "task_changes"
APPLICATION_NAME = "tasks-listener"
PROBE_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 5.0
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0

_FAILURES = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Change(msgspec.Struct, frozen=True):
    """The notification's payload: whose tasks changed, their new change number, when (epoch seconds)."""

    user_id: str
    seq: int
    at: float


_decode = msgspec.json.Decoder(Change).decode


class Listener:
    def __init__(self, dsn: str, hub: Hub, *, probe_seconds: float = PROBE_SECONDS) -> None:
        self._dsn = dsn
        self._hub = hub
        self._probe_seconds = probe_seconds
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self.connections = 0  # established so far; more than one means reconnects

    async def start(self) -> None:
        """Start listening; returns once the first attempt to connect has succeeded or failed.

        Waiting for it means a server that starts with its database up listens before it serves, and
        one that starts without it is not held up: it keeps trying in the background.
        """
        if "-pooler" in (urlsplit(self._dsn).hostname or ""):
            log.warning("the LISTEN URL looks pooled (a transaction pooler cannot LISTEN): set LISTEN_DATABASE_URL")
        self._task = asyncio.create_task(self._run(), name="task-changes-listener")
        await self._first_attempt.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failures = 0  # connection attempts failed in a row
        while True:
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except _FAILURES as error:
                failures += 1
                if failures == 1:  # one line per outage, not one per attempt
                    log.warning("cannot open the LISTEN connection (%s); retrying with backoff", type(error).__name__)
            else:
                failures = 0
                try:
                    await self._listen(connection)
                except _FAILURES as error:
                    log.warning("LISTEN connection failed: %s", type(error).__name__)
                except Exception:  # a bug here must not end live updates for the life of the process
                    log.exception("LISTEN connection failed unexpectedly")
                finally:
                    connection.terminate()  # no goodbye: the socket may be dead already
                log.warning("LISTEN connection lost; reconnecting")
            self._first_attempt.set()
            await asyncio.sleep(_backoff(failures))

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Until the connection is gone: closed by the server, or silent past a probe's timeout."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(CHANNEL, self._on_notification)
        self._first_attempt.set()
        self.connections += 1
        if self.connections > 1:
            metrics.LISTENER_RECONNECTS.inc()
            log.warning("LISTEN connection re-established; every open stream gets the head again")
        self._hub.resync_all()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._probe_seconds):
                    await lost.wait()
            if not lost.is_set():
                await connection.fetchval(PING.text, timeout=PROBE_TIMEOUT_SECONDS)

    def _on_notification(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        try:
            change = _decode(payload)  # type: ignore[arg-type]
        except msgspec.DecodeError:
            log.warning("ignored a malformed %s notification", CHANNEL)
            return
        self._hub.publish(change.user_id, change.seq, change.at)


def _backoff(failures: int) -> float:
    """Exponential with full jitter, so the workers of a fleet do not reconnect in step."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** min(failures, 8))
    return random.uniform(BACKOFF_FIRST_SECONDS, ceiling)  # noqa: S311 (jitter, not a secret)
