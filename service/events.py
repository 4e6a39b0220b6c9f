"""GET /api/{user_id}/events: a Server-Sent Events stream telling a user's open clients that their tasks changed.

An event carries only the head cursor of the change feed; the client pulls the feed from its stored
cursor when the head differs. The event loop of the stream:

    retry: 3000
    event: changed / id: <head> / data: {"cursor": "<head>"}     at once, unless Last-Event-ID is the head
    ...a changed event after each committed change (bursts merged), ": ping" every heartbeat...
    the end, after SSE_MAX_SECONDS or when the process stops; the client reconnects
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, NamedTuple

import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.params import HeaderParameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from service import metrics
from service.config import Settings
from service.errors import Unavailable
from service.live import Hub, Subscription
from service.tasks import UserId, gateway_of

log = logging.getLogger("service.events")

RETRY_MILLISECONDS = 3000
# data=None: Litestar's message defaults data to "", which would add an empty `data:` line to a comment.
RETRY = ServerSentEventMessage(retry=RETRY_MILLISECONDS, data=None)
PING = ServerSentEventMessage(comment="ping", data=None)


class Heads(NamedTuple):
    """Where a head cursor comes from: the user's newest change number, and the feed cursor at it."""

    seq: Callable[[str], Awaitable[int]]
    cursor: Callable[[str, int], str]


def changed(cursor: str) -> ServerSentEventMessage:
    return ServerSentEventMessage(event="changed", id=cursor, data=msgspec.json.encode({"cursor": cursor}).decode())


LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        required=False,
        description="The id of the last event received: when it is still the head, the first event waits for a change",
    ),
]


@get(
    "/api/{user_id:str}/events",
    summary="Live updates (Server-Sent Events)",
    description=(
        "A `text/event-stream`. First `retry: 3000`, then `event: changed` with `id` and `data.cursor` set to the "
        "change feed's head cursor, at once and after every committed change of the user's tasks (bursts merged); "
        "`: ping` every SSE_HEARTBEAT_SECONDS; the stream ends after SSE_MAX_SECONDS and the client reconnects. "
        "Bearer header only: browsers use a fetch-based SSE client, since EventSource cannot send a header."
    ),
    tags=["live"],
    security=[{"BearerToken": []}],
    media_type="text/event-stream",
)
async def events(state: State, user_id: UserId, last_event_id: LastEventId = None) -> ServerSentEvent:
    hub: Hub = state.live
    settings: Settings = state.settings
    heads = Heads(gateway_of(state).head_seq, state.feed_cursors.head)
    # Subscribed before the head is read, so a change committed in between is not missed.
    subscription = hub.subscribe(user_id)
    try:
        seq = await heads.seq(user_id)
    except BaseException:
        subscription.close()
        raise
    head = heads.cursor(user_id, seq)
    first = None if last_event_id == head else head
    stream = _stream(subscription, heads, settings, first=first, sent=seq)
    # no-store, as on every /api/ response (Litestar's SSE default is no-cache).
    return ServerSentEvent(stream, headers={"Cache-Control": "no-store"})


async def _stream(
    subscription: Subscription, heads: Heads, settings: Settings, *, first: str | None, sent: int
) -> AsyncIterator[ServerSentEventMessage]:
    """The stream's messages; `sent` is the change number the client already holds (or is about to)."""
    loop = asyncio.get_running_loop()
    user_id = subscription.user_id
    heartbeat = settings.sse_heartbeat_seconds
    end = loop.time() + settings.sse_max_seconds
    next_ping = loop.time() + heartbeat
    try:
        yield RETRY
        if first is not None:
            metrics.EVENTS_SENT.labels("first").inc()
            yield changed(first)
        while not subscription.closing and (now := loop.time()) < end:
            if now >= next_ping:
                next_ping = now + heartbeat
                yield PING
                continue
            if not await subscription.wait(min(next_ping, end)) or subscription.closing:
                continue
            news = subscription.take()
            if news.resync:
                seq = max(news.seq, await heads.seq(user_id))
            elif news.seq > sent:
                seq = news.seq
            else:
                continue  # the client already has this change, through the first event
            sent = max(sent, seq)
            if news.at is not None:
                metrics.EVENT_DELAY.observe(max(0.0, time.time() - news.at))
            metrics.EVENTS_SENT.labels("resync" if news.resync else "change").inc()
            yield changed(heads.cursor(user_id, seq))
    except Unavailable:
        log.warning("database unavailable for a live-update stream; ending it so the client reconnects")
    finally:
        subscription.close()
