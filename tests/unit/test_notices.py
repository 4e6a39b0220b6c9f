"""Live-update notices: recorded without waiting, merged per user, sent in batches, retried, flushed on close."""

from __future__ import annotations

import asyncio
import json

from service.notices import Notices


async def test_notices_are_merged_per_user_and_sent_in_batches() -> None:
    sent: list[list[dict[str, object]]] = []
    release = asyncio.Event()

    async def send(payloads: list[str]) -> None:
        sent.append([json.loads(p) for p in payloads])
        await release.wait()

    notices = Notices(send)
    notices.changed("a", 1)
    await asyncio.sleep(0.01)  # the first batch is in flight and blocks
    notices.changed("a", 3)
    notices.changed("b", 7)
    notices.changed("a", 2)  # older than the pending 3: dropped
    release.set()
    await notices.close()
    assert [[(n["user_id"], n["seq"]) for n in batch] for batch in sent] == [[("a", 1)], [("a", 3), ("b", 7)]]
    assert all(isinstance(n["at"], float) for batch in sent for n in batch)


async def test_a_failed_batch_is_sent_again() -> None:
    attempts: list[list[str]] = []

    async def send(payloads: list[str]) -> None:
        attempts.append(payloads)
        if len(attempts) == 1:
            raise OSError("database gone")

    notices = Notices(send)
    notices.changed("a", 1)
    await notices.close()
    assert len(attempts) == 2 and attempts[0] == attempts[1]


async def test_close_gives_up_on_a_send_that_never_returns() -> None:
    async def send(_: list[str]) -> None:
        await asyncio.Event().wait()

    notices = Notices(send)
    notices.changed("a", 1)
    await asyncio.wait_for(notices.close(), 10)
