"""A batch in the change feed: one counter bump and one notice per batch, concurrent batches and single
writes on the same tasks with no lost update and no deadlock, and the feed's guarantee across them."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import asyncpg
import httpx

from tests.feed.sync import Replica
from tests.feed.test_feed_property import Acks, assert_covers, reader, writer
from tests.helpers import auth

Http = httpx.AsyncClient
WAIT = 10.0


async def _batch(http: Http, user: str, operations: list[Any], atomic: bool = False) -> httpx.Response:
    body = {"atomic": atomic, "operations": operations}
    return await http.post(f"/api/{user}/tasks/batch", json=body, headers=auth(user))


async def _created(http: Http, user: str, count: int) -> list[str]:
    response = await _batch(http, user, [{"op": "create", "data": {"title": f"t{i}"}} for i in range(count)])
    assert response.status_code == 200, response.text
    return [result["task"]["id"] for result in response.json()["data"]]


async def _head(db: asyncpg.Connection, user: str) -> int:
    return int(await db.fetchval("SELECT coalesce(max(change_seq), 0) FROM task_sync WHERE user_id = $1", user))


async def test_a_batch_advances_the_feed_once_and_notifies_once(
    http: Http, db: asyncpg.Connection, migrated: str, user: str
) -> None:
    heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    listener = await asyncpg.connect(migrated)

    def hear(_: object, __: int, ___: str, payload: object) -> None:
        message = json.loads(str(payload))
        if message["user_id"] == user:
            heard.put_nowait(message)

    await listener.add_listener("task_changes", hear)
    try:
        # A user's very first write is a batch: the counter row is made by the batch itself.
        first, second = await _created(http, user, 2)
        assert (await asyncio.wait_for(heard.get(), WAIT))["seq"] == 1
        assert await _head(db, user) == 1

        operations = [
            {"op": "create", "data": {"title": "new"}},
            {"op": "update", "id": first, "data": {"title": "edited"}},
            {"op": "update", "id": first, "data": {"priority": "high"}},
            {"op": "complete", "id": second},
            {"op": "delete", "id": second},
            {"op": "update", "id": first, "data": {"title": "bad"}, "if_match": '"1"'},  # fails: 412
        ]
        response = await _batch(http, user, operations)
        assert [r["status"] for r in response.json()["data"]] == [201, 200, 200, 200, 204, 412]
        assert await _head(db, user) == 2
        stamps = await db.fetch("SELECT DISTINCT change_seq FROM tasks WHERE user_id = $1", user)
        assert [row["change_seq"] for row in stamps] == [2]  # every task the batch changed, one number
        assert (await asyncio.wait_for(heard.get(), WAIT))["seq"] == 2

        # A batch that changes nothing (failures, no-ops) neither advances the feed nor notifies.
        nothing = [{"op": "update", "id": first, "data": {"title": "edited"}}, {"op": "delete", "id": second}]
        assert [r["status"] for r in (await _batch(http, user, nothing)).json()["data"]] == [200, 404]
        assert (await _batch(http, user, nothing[1:], atomic=True)).status_code == 409
        marker = await http.post(f"/api/{user}/tasks", json={"title": "marker"}, headers=auth(user))
        assert marker.status_code == 201
        assert (await asyncio.wait_for(heard.get(), WAIT))["seq"] == 3  # notices come in commit order
        assert heard.empty()
    finally:
        await listener.close()


async def test_concurrent_batches_on_the_same_tasks_lose_no_update_and_never_deadlock(
    http: Http, db: asyncpg.Connection, user: str
) -> None:
    ids = await _created(http, user, 3)
    changes: dict[str, int] = dict.fromkeys(ids, 0)

    async def batches(seed: int) -> None:
        rng = random.Random(seed)
        for n in range(8):
            order = rng.sample(ids, len(ids))  # opposite orders in concurrent batches: the classic deadlock
            ops = [{"op": "update", "id": task, "data": {"title": f"b{seed}-{n}-{task}"}} for task in order]
            response = await _batch(http, user, ops, atomic=rng.random() < 0.5)
            assert response.status_code == 200, response.text
            for task, result in zip(order, response.json()["data"], strict=True):
                assert result["status"] == 200
                changes[task] += 1

    async def singles(seed: int) -> None:
        for n in range(8):
            task = ids[n % len(ids)]
            path = f"/api/{user}/tasks/{task}"
            response = await http.patch(path, json={"title": f"s{seed}-{n}"}, headers=auth(user))
            assert response.status_code == 200, response.text
            changes[task] += 1

    await asyncio.gather(*(batches(seed) for seed in range(6)), *(singles(seed) for seed in range(2)))
    rows = await db.fetch("SELECT id::text, version FROM tasks WHERE user_id = $1", user)
    assert {row["id"]: row["version"] for row in rows} == {task: 1 + n for task, n in changes.items()}
    # 1 for the creating batch, 6 x 8 batches, 2 x 8 single writes: one number each
    assert await _head(db, user) == 1 + 6 * 8 + 2 * 8


async def batch_writer(http: Http, user: str, acks: Acks, seed: int) -> None:
    """Batches of a few random operations on the tasks known so far, acknowledged per result."""
    rng = random.Random(seed)
    for _ in range(12):
        operations: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 6)):
            task = rng.choice(acks.ids) if acks.ids else None
            roll = rng.random()
            if task is None or roll < 0.3:
                operations.append({"op": "create", "data": {"title": f"b{seed}"}})
            elif roll < 0.6:
                operations.append({"op": "update", "id": task, "data": {"title": f"u{rng.randrange(3)}"}})
            elif roll < 0.75:
                operations.append({"op": "complete", "id": task})
            elif roll < 0.85:
                operations.append({"op": "replace", "id": task, "data": {"title": "r", "priority": "low"}})
            else:
                operations.append({"op": "delete", "id": task})
        response = await _batch(http, user, operations, atomic=rng.random() < 0.3)
        assert response.status_code in (200, 409), response.text
        if response.status_code == 409:
            assert response.json()["code"] == "BATCH_ABORTED"
            continue
        for operation, result in zip(operations, response.json()["data"], strict=True):
            if result["status"] == 204:
                acks.deletions.append((len(acks.versions), operation["id"]))
            elif result["status"] in (200, 201):
                acks.versions.append((result["task"]["id"], result["task"]["version"]))
                if result["status"] == 201:
                    acks.ids.append(result["task"]["id"])
        await asyncio.sleep(0)


async def test_feed_walks_across_concurrent_batches_and_single_writes_miss_nothing(
    http: Http, db: asyncpg.Connection, user: str
) -> None:
    acks = Acks()
    done = asyncio.Event()
    readers = [asyncio.create_task(reader(http, user, acks, limit, done)) for limit in (1, 3, 50)]
    await asyncio.gather(
        *(batch_writer(http, user, acks, seed) for seed in range(4)),
        *(writer(http, user, acks, 100 + seed) for seed in range(2)),
    )
    done.set()
    results = await asyncio.gather(*readers)

    rows = await db.fetch("SELECT id::text, status FROM tasks WHERE user_id = $1", user)
    deleted = {row["id"] for row in rows if row["status"] == "deleted"}
    live = await http.get(f"/api/{user}/tasks", params={"limit": 1000}, headers=auth(user))
    live_tasks = {task["id"]: task for task in live.json()["data"]}
    assert acks.deletions and len(acks.versions) > 20
    for replica, finished in results:
        assert len(finished) >= 2
        for tasks, seen in finished:
            assert_covers(Replica(tasks), acks, seen, deleted)
        assert replica.tasks == live_tasks
