"""An unread request body before an early answer: drained when that is cheap, `Connection: close` otherwise."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from service import unread
from service.unread import RequestBody, declared_length


class Client:
    """A receive callable fed from a list of body chunks; past the list it stalls, as a slow client does."""

    def __init__(self, chunks: list[bytes], *, ends: bool = True) -> None:
        self.chunks = chunks
        self.ends = ends
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        if not self.chunks:
            await asyncio.Event().wait()
        chunk = self.chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks) or not self.ends}


def _scope(*headers: tuple[bytes, bytes]) -> Any:
    return {"type": "http", "http_version": "1.1", "headers": [(b"host", b"x"), *headers]}


def test_declared_length() -> None:
    assert declared_length(_scope()) == 0
    assert declared_length(_scope((b"content-length", b"12"))) == 12
    assert declared_length(_scope((b"transfer-encoding", b"chunked"))) is None
    assert declared_length(_scope((b"content-length", b"-1"))) is None


async def test_a_body_the_app_read_needs_nothing_more() -> None:
    client = Client([b"{}"])
    body = RequestBody(client)
    assert (await body.receive()) == {"type": "http.request", "body": b"{}", "more_body": False}
    assert await body.settle(_scope((b"content-length", b"2")))
    assert client.calls == 1


async def test_a_request_without_a_body_is_never_read() -> None:
    client = Client([])
    assert await RequestBody(client).settle(_scope())
    assert client.calls == 0


async def test_the_rest_of_a_body_is_drained() -> None:
    client = Client([b"a" * 1000, b"b" * 1000, b"c"])
    body = RequestBody(client)
    await body.receive()  # the app read the first chunk, then answered
    assert await body.settle(_scope((b"content-length", b"2001")))
    assert client.calls == 3 and body.read


async def test_a_chunked_body_is_drained_too() -> None:
    client = Client([b"a", b"b"])
    assert await RequestBody(client).settle(_scope((b"transfer-encoding", b"chunked")))
    assert client.calls == 2


async def test_a_declared_body_over_the_bound_is_not_read() -> None:
    client = Client([b"a"])
    too_big = str(unread.DRAIN_BYTES + 1).encode()
    assert not await RequestBody(client).settle(_scope((b"content-length", too_big)))
    assert client.calls == 0


async def test_a_chunked_body_over_the_bound_stops_the_drain() -> None:
    chunk = b"x" * (1024 * 1024)
    client = Client([chunk] * 8)
    assert not await RequestBody(client).settle(_scope((b"transfer-encoding", b"chunked")))
    assert client.calls == unread.DRAIN_BYTES // len(chunk) + 1


async def test_a_stalled_body_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unread, "DRAIN_SECONDS", 0.05)
    client = Client([b"a"], ends=False)  # announces 10 bytes, sends 1, then nothing
    assert not await RequestBody(client).settle(_scope((b"content-length", b"10")))


async def test_a_client_that_left_ends_the_drain() -> None:
    async def gone() -> Any:
        return {"type": "http.disconnect"}

    assert await RequestBody(gone).settle(_scope((b"content-length", b"10")))


def test_only_http1_speaks_of_connections() -> None:
    assert unread.is_http1(_scope())
    http2: Any = {**_scope(), "http_version": "2"}
    assert not unread.is_http1(http2)
