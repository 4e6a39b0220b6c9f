"""Live-update notices: after a write commits, every listening worker hears that the user's counter moved.

A write records (user, new counter) here and returns at once; one task per process sends what has
accumulated in one statement (sql/system/notify_changes.sql), then whatever accumulated meanwhile, so
under load a notice carries many writes and costs a write nothing. Notices of one user merge into the
newest. The payload is the one the listener reads: {"user_id": str, "seq": int, "at": epoch seconds of
the commit}.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import msgspec

log = logging.getLogger("service.notices")

RETRY_SECONDS = 0.5
FLUSH_ON_CLOSE_SECONDS = 2.0
Send = Callable[[list[str]], Awaitable[None]]


class Notice(msgspec.Struct, frozen=True):
    user_id: str
    seq: int
    at: float


_encode = msgspec.json.Encoder().encode


class Notices:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._pending: dict[str, Notice] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set while nothing is pending or being sent
        self._idle.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="notices")

    def changed(self, user_id: str, seq: int) -> None:
        """A write of `user_id` committed with counter `seq`; never blocks, never fails the write."""
        self._merge(Notice(user_id, seq, time.time()))

    def _merge(self, notice: Notice) -> None:
        known = self._pending.get(notice.user_id)
        if known is None or known.seq < notice.seq:
            self._pending[notice.user_id] = notice
        self._idle.clear()
        self._wake.set()

    async def close(self) -> None:
        """Send what is pending (bounded in time), then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), FLUSH_ON_CLOSE_SECONDS)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, {}
            if not batch:
                continue
            try:
                await self._send([_encode(notice).decode() for notice in batch.values()])
            except Exception as error:
                log.warning("live-update notices not sent (%s); retrying", type(error).__name__)
                for notice in batch.values():
                    self._merge(notice)
                await asyncio.sleep(RETRY_SECONDS)
            if not self._pending:
                self._idle.set()
