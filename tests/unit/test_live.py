"""The in-process fan-out: per-user slots that coalesce, the per-user cap, closing, and the SSE bytes."""

from __future__ import annotations

import asyncio
import gc
import os
import signal

import pytest

from service.errors import TooManyStreams, Unavailable
from service.events import PING, RETRY, changed
from service.live import Hub, News, close_on_stop_signal


def _soon() -> float:
    return asyncio.get_running_loop().time() + 1.0


async def test_a_stream_that_is_behind_gets_the_newest_change_once() -> None:
    hub = Hub(max_per_user=5)
    subscription = hub.subscribe("alice")
    for seq in (3, 4, 2, 7, 5):
        hub.publish("alice", seq, at=100.0 + seq)
    assert await subscription.wait(_soon())
    # The newest number, the oldest pending commit time (the delay metric is the worst case).
    assert subscription.take() == News(seq=7, at=103.0, resync=False)
    assert not await subscription.wait(asyncio.get_running_loop().time() + 0.05)


async def test_changes_reach_only_their_users_streams() -> None:
    hub = Hub(max_per_user=5)
    alice = [hub.subscribe("alice"), hub.subscribe("alice")]
    bob = hub.subscribe("bob")
    hub.publish("alice", 1, at=None)
    assert [s.take().seq for s in alice] == [1, 1]
    assert bob.take() == News(0, None, False)


async def test_resync_reaches_every_stream() -> None:
    hub = Hub(max_per_user=5)
    streams = [hub.subscribe("alice"), hub.subscribe("bob")]
    hub.resync_all()
    for stream in streams:
        assert await stream.wait(_soon())
        assert stream.take().resync


def test_the_per_user_cap() -> None:
    hub = Hub(max_per_user=2)
    held = [hub.subscribe("alice"), hub.subscribe("alice")]
    with pytest.raises(TooManyStreams) as caught:
        hub.subscribe("alice")
    assert caught.value.status_code == 429 and caught.value.code == "TOO_MANY_STREAMS"
    assert "Retry-After" in caught.value.headers()
    held.append(hub.subscribe("bob"))  # the cap is per user
    held.pop(0).close()
    held.append(hub.subscribe("alice"))
    assert hub.open_streams() == 3


def test_a_subscription_nobody_holds_frees_its_place() -> None:
    """A stream whose generator never ran (the client left before the first byte) never calls close()."""
    hub = Hub(max_per_user=1)
    hub.subscribe("alice")  # dropped at once
    gc.collect()
    kept = hub.subscribe("alice")
    assert hub.open_streams() == 1
    kept.close()
    assert hub.open_streams() == 0


async def test_closing_wakes_every_stream_and_refuses_new_ones() -> None:
    hub = Hub(max_per_user=5)
    subscription = hub.subscribe("alice")
    waiter = asyncio.create_task(subscription.wait(asyncio.get_running_loop().time() + 30))
    await asyncio.sleep(0)
    hub.close()
    assert await asyncio.wait_for(waiter, timeout=5)
    assert subscription.closing
    with pytest.raises(Unavailable):
        hub.subscribe("alice")


def test_the_exact_bytes_of_each_message() -> None:
    """Litestar's message defaults `data` to "", which would follow a comment with an empty `data:` line:
    clients then dispatch an empty message event on every heartbeat."""
    assert PING.encode() == b": ping\r\n\r\n"
    assert RETRY.encode() == b"retry: 3000\r\n\r\n"
    assert changed("abc.def").encode() == b'id: abc.def\r\nevent: changed\r\ndata: {"cursor":"abc.def"}\r\n\r\n'


async def test_a_stop_signal_closes_the_hub_and_still_reaches_the_servers_handler() -> None:
    """granian's worker has its own SIGTERM handler; ours runs in front of it and passes the signal on."""
    received: list[int] = []
    server_handler = signal.signal(signal.SIGTERM, lambda number, _frame: received.append(number))
    try:
        hub = Hub(max_per_user=5)
        undo = close_on_stop_signal(hub)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):
            if hub.closing:
                break
            await asyncio.sleep(0.01)
        assert hub.closing
        assert received == [signal.SIGTERM]
        undo()
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)
        assert received == [signal.SIGTERM, signal.SIGTERM]  # the server's handler alone again
    finally:
        signal.signal(signal.SIGTERM, server_handler)


async def test_without_a_server_handler_nothing_is_chained() -> None:
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        close_on_stop_signal(Hub(max_per_user=5))()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
