"""A small Server-Sent Events reader for tests: blocks of `field: value` lines, as a browser client parses them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from tests.helpers import auth


@dataclass
class Block:
    """One blank-line-terminated block: an event, a comment (ping) or the retry line."""

    fields: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    @property
    def event(self) -> str | None:
        return self.fields.get("event")


class Reader:
    """Lines are read by a task of their own, so a timed-out wait never cuts the response's iterator."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.error: httpx.HTTPError | None = None  # how the stream ended, if not cleanly
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for line in self.response.aiter_lines():
                self._lines.put_nowait(line)
        except httpx.HTTPError as error:
            self.error = error
        finally:
            self._lines.put_nowait(None)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def block(self, within: float) -> Block | None:
        """The next block, or None when the stream ended; TimeoutError after `within` seconds."""
        async with asyncio.timeout(within):
            block = Block()
            while (line := await self._lines.get()) is not None:
                if line == "":
                    if block.fields or block.comments:
                        return block
                    continue
                if line.startswith(":"):
                    block.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                block.fields[name] = value.removeprefix(" ")
            self._lines.put_nowait(None)  # the end stays the end
            return None

    async def event(self, within: float) -> Block:
        """The next `changed` event, skipping pings and the retry line."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            block = await self.block(max(0.0, deadline - asyncio.get_running_loop().time()))
            assert block is not None, "the stream ended before an event"
            if block.event is not None:
                return block

    async def quiet(self, seconds: float) -> None:
        """No event for `seconds` (pings are fine)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                block = await self.block(left)
            except TimeoutError:
                return
            assert block is not None and block.event is None, f"unexpected {block}"


@asynccontextmanager
async def stream(client: httpx.AsyncClient, user: str, headers: dict[str, str] | None = None) -> AsyncIterator[Reader]:
    async with client.stream("GET", f"/api/{user}/events", headers={**auth(user), **(headers or {})}) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = Reader(response)
        try:
            yield reader
        finally:
            await reader.close()
