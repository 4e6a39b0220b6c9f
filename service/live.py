"""Live updates inside one process: who is listening for which user, and the news each stream is owed.

Every open stream holds a Subscription: a slot, not a queue. A notification raises the slot's change
number and wakes the stream; a stream that is behind finds only the newest number there, so it sends
one event, never a backlog, and publishing never waits for a stream.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import weakref
from collections.abc import Callable
from types import FrameType
from typing import NamedTuple

from service import metrics
from service.errors import TooManyStreams, Unavailable


class News(NamedTuple):
    seq: int  # the highest change number announced since the last take; 0 if none
    at: float | None  # commit time (epoch seconds) of the oldest change not yet sent, for the delay metric
    resync: bool  # the listener was away: changes may have been missed, send the head whatever the numbers say


class Subscription:
    __slots__ = ("__weakref__", "_at", "_counted", "_hub", "_resync", "_seq", "_wake", "user_id")

    def __init__(self, hub: Hub, user_id: str) -> None:
        self.user_id = user_id
        self._hub = hub
        self._seq = 0
        self._at: float | None = None
        self._resync = False
        self._wake = asyncio.Event()
        # Counted open until closed or collected, whichever comes first; a finalizer runs once.
        metrics.STREAMS_OPEN.inc()
        self._counted = weakref.finalize(self, metrics.STREAMS_OPEN.dec)

    @property
    def closing(self) -> bool:
        return self._hub.closing

    def notify(self, seq: int, at: float | None) -> None:
        self._seq = max(self._seq, seq)
        if self._at is None:
            self._at = at
        self._wake.set()

    def notify_resync(self) -> None:
        self._resync = True
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def wait(self, deadline: float) -> bool:
        """Until there is news or the hub closes (True), or the event loop's clock reaches `deadline` (False)."""
        if not self._wake.is_set():
            try:
                async with asyncio.timeout_at(deadline):
                    await self._wake.wait()
            except TimeoutError:
                return False
        return True

    def take(self) -> News:
        news = News(self._seq, self._at, self._resync)
        self._seq, self._at, self._resync = 0, None, False
        self._wake.clear()
        return news

    def close(self) -> None:
        self._hub.drop(self)
        self._counted()


class Hub:
    """The subscriptions of this process, by user.

    A user's subscriptions sit in a WeakSet: a stream whose generator is dropped without ever running
    (the client left before the first byte) frees its place in the per-user cap all the same.
    """

    def __init__(self, max_per_user: int) -> None:
        self._max_per_user = max_per_user
        self._by_user: dict[str, weakref.WeakSet[Subscription]] = {}
        self.closing = False

    def subscribe(self, user_id: str) -> Subscription:
        if self.closing:
            raise Unavailable("The server is shutting down; reconnect.")
        subscriptions = self._by_user.setdefault(user_id, weakref.WeakSet())
        if len(subscriptions) >= self._max_per_user:
            raise TooManyStreams()
        subscription = Subscription(self, user_id)
        subscriptions.add(subscription)
        return subscription

    def drop(self, subscription: Subscription) -> None:
        subscriptions = self._by_user.get(subscription.user_id)
        if subscriptions is not None:
            subscriptions.discard(subscription)
            if not subscriptions:
                del self._by_user[subscription.user_id]

    def publish(self, user_id: str, seq: int, at: float | None) -> None:
        for subscription in self._by_user.get(user_id, ()):
            subscription.notify(seq, at)

    def resync_all(self) -> None:
        for subscriptions in self._by_user.values():
            for subscription in subscriptions:
                subscription.notify_resync()

    def close(self) -> None:
        """Every stream ends at its next step, and no new one starts: the process is about to stop."""
        self.closing = True
        for subscriptions in self._by_user.values():
            for subscription in subscriptions:
                subscription.wake()

    def open_streams(self) -> int:
        return sum(len(subscriptions) for subscriptions in self._by_user.values())


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def close_on_stop_signal(hub: Hub) -> Callable[[], None]:
    """Close the hub when the process is told to stop; returns the undo.

    granian waits for open responses before it runs the lifespan's shutdown, and a stream is open for
    minutes, so the shutdown hook alone would come too late. The server's own handler keeps running:
    ours is chained in front of it. Without a server handler (a test client) there is nothing to chain.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: list[tuple[signal.Signals, Callable[..., object], Callable[..., object]]] = []

    def closer(previous: Callable[..., object]) -> Callable[[int, FrameType | None], None]:
        def on_signal(number: int, frame: FrameType | None) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(hub.close)
            previous(number, frame)

        return on_signal

    for signum in _STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if callable(previous):
            ours = closer(previous)
            signal.signal(signum, ours)
            installed.append((signum, ours, previous))

    def undo() -> None:
        for signum, ours, previous in installed:
            if signal.getsignal(signum) is ours:  # not if another handler was chained in front since
                signal.signal(signum, previous)

    return undo
