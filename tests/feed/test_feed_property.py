"""The feed's guarantee as a property, under concurrent writers of every kind against one user.

Readers walk the feed while the writers run and apply every page to a replica. After each walk, every
write acknowledged before its last page was requested is in the replica (its version or a later one, or
the task is gone when its deletion was acknowledged); after the writers stop and a final walk, each
replica equals the live tasks.

The same test first shows why the feed does not walk by updated_at: a write transaction takes its
timestamp when it starts, but its row becomes visible when it commits. With one transaction holding an
early timestamp open while another commits, an updated_at walk steps past the early one for good; the
feed, read at the same moments, does not.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from service.schemas import TaskChange
from service.statements import STATEMENTS
from tests.feed.sync import Replica, pull
from tests.helpers import auth

WRITERS = 8
WRITES_EACH = 30
READERS = (1, 4, 50)  # page sizes: one task a page makes the walks long and the overlaps many
Http = httpx.AsyncClient


@dataclass
class Acks:
    """Writes the API acknowledged, in the order their answers arrived."""

    versions: list[tuple[str, int]] = field(default_factory=list)  # (task id, version it answered)
    deletions: list[tuple[int, str]] = field(default_factory=list)  # (index into versions when acked, task id)
    ids: list[str] = field(default_factory=list)

    def count(self) -> tuple[int, int]:
        return len(self.versions), len(self.deletions)


async def writer(http: Http, user: str, acks: Acks, seed: int) -> None:
    rng = random.Random(seed)
    for n in range(WRITES_EACH):
        task_id = rng.choice(acks.ids) if acks.ids else None
        response = await one_write(http, user, rng, task_id, rng.choice(acks.ids) if acks.ids else None, seed, n)
        # 422: a parent that breaks the one-level rule, or was deleted meanwhile
        assert response.status_code in (200, 201, 204, 404, 409, 412, 422), response.text
        if response.status_code == 204:
            assert task_id is not None
            acks.deletions.append((len(acks.versions), task_id))
        elif response.status_code in (200, 201):
            task = response.json()["data"]
            acks.versions.append((task["id"], task["version"]))
            if response.status_code == 201 and task["id"] not in acks.ids:
                acks.ids.append(task["id"])
        await asyncio.sleep(0)


async def one_write(
    http: Http, user: str, rng: random.Random, task_id: str | None, other: str | None, seed: int, n: int
) -> httpx.Response:
    """One write of a kind drawn at random: every route that writes, cascades and no-ops included."""
    headers, roll, path = auth(user), rng.random(), f"/api/{user}/tasks/{task_id}"
    if task_id is None or roll < 0.2:
        key = {"Idempotency-Key": f"k{seed}-{n % 3}"} if rng.random() < 0.3 else {}
        return await http.post(f"/api/{user}/tasks", json={"title": f"w{seed}"}, headers={**headers, **key})
    if roll < 0.23:  # a recurring task: completing it moves its due date instead
        recurring = {"title": f"r{seed}", "due_date": "2030-01-01T09:00:00Z", "recurrence": {"rule": "FREQ=DAILY"}}
        return await http.post(f"/api/{user}/tasks", json=recurring, headers=headers)
    if roll < 0.27:  # a subtask: its parent's delete and completion cascade to it
        return await http.post(f"/api/{user}/tasks", json={"title": f"s{seed}", "parent_id": other}, headers=headers)
    if roll < 0.42:
        body = rng.choice([{"title": f"t{rng.randrange(3)}"}, {"priority": "high"}, {"tags": ["a"]}])
        return await http.patch(path, json=body, headers=headers)
    if roll < 0.5:
        return await http.put(path, json={"title": f"t{rng.randrange(3)}"}, headers=headers)
    if roll < 0.62:
        return await http.patch(f"{path}/complete", headers=headers)
    if roll < 0.66:
        return await http.patch(f"{path}/complete", json={"completed": False}, headers=headers)
    if roll < 0.7:
        return await http.patch(path, json={"title": "stale"}, headers={**headers, "If-Match": '"1"'})
    if roll < 0.8:  # drag and drop: to the top of its list, or under another task (re-spacing siblings)
        body = rng.choice([{"after_id": None}, {"parent_id": other, "after_id": None}, {"parent_id": None}])
        return await http.post(f"{path}/move", json=body, headers=headers)
    return await http.delete(path, headers=headers)


def assert_covers(replica: Replica, acks: Acks, seen: tuple[int, int], deleted_by_now: set[str]) -> None:
    """Every write acknowledged before the walk's last page was asked for is in the replica."""
    versions, deletions = seen
    for task_id, version in acks.versions[:versions]:
        if task_id in replica.tasks:
            assert replica.tasks[task_id]["version"] >= version, (task_id, version)
        else:
            assert task_id in deleted_by_now, f"acknowledged write of {task_id} v{version} missing"
    for _, task_id in acks.deletions[:deletions]:
        assert task_id not in replica.tasks, f"acknowledged deletion of {task_id} missing"


async def reader(http: Http, user: str, acks: Acks, limit: int, done: asyncio.Event) -> list[Any]:
    """Walk after walk until the writers are done; returns (replica copy, acks seen) per finished walk."""
    replica = Replica()
    finished: list[Any] = []
    while True:
        last_round = done.is_set()
        while True:
            seen = acks.count()
            page = await pull(http, user, replica.cursor, limit)
            replica.apply(page)
            if not page["meta"]["has_more"]:
                break
        finished.append((dict(replica.tasks), seen))
        if last_round:
            return [replica, finished]
        await asyncio.sleep(0)


async def test_concurrent_writers_and_readers_the_replicas_miss_nothing(
    http: Http, db: asyncpg.Connection, migrated: str, user: str
) -> None:
    await _updated_at_walks_miss_what_the_feed_keeps(http, migrated, user)

    acks = Acks()
    done = asyncio.Event()
    readers = [asyncio.create_task(reader(http, user, acks, limit, done)) for limit in READERS]
    await asyncio.gather(*(writer(http, user, acks, seed) for seed in range(WRITERS)))
    done.set()
    results = await asyncio.gather(*readers)

    rows = await db.fetch("SELECT id::text, status FROM tasks WHERE user_id = $1", user)
    deleted = {row["id"] for row in rows if row["status"] == "deleted"}
    live = await _live(http, user)
    assert len(acks.deletions) > 0 and len(acks.versions) > WRITERS
    for replica, finished in results:
        assert len(finished) >= 2
        for tasks, seen in finished:
            assert_covers(Replica(tasks), acks, seen, deleted)
        assert replica.tasks == live
    fresh = Replica()
    await fresh.sync(http, user, limit=7)
    assert fresh.tasks == live


async def _live(http: Http, user: str) -> dict[str, Any]:
    response = await http.get(f"/api/{user}/tasks", params={"limit": 1000}, headers=auth(user))
    assert response.status_code == 200
    return {task["id"]: task for task in response.json()["data"]}


async def _updated_at_walks_miss_what_the_feed_keeps(http: Http, url: str, user: str) -> None:
    """A transaction that took its timestamp early commits after a later one: updated_at misses it."""
    early, late = [
        (await http.post(f"/api/{user}/tasks", json={"title": title}, headers=auth(user))).json()["data"]
        for title in ("early", "late")
    ]
    feed = Replica()
    await feed.sync(http, user)
    position, _ = await _updated_at_walk(url, user, None)

    slow = await asyncpg.connect(url)
    try:
        transaction = slow.transaction()
        await transaction.start()
        await slow.fetchval("SELECT now()")  # the transaction's timestamp is taken here, as every write's is
        path = f"/api/{user}/tasks/{late['id']}"
        assert (await http.patch(path, json={"title": "late, edited"}, headers=auth(user))).status_code == 200
        # Then the slow transaction writes through the service's own statement: it locks the counter,
        # stamps `early` with the next value, and sets updated_at to its (earlier) timestamp.
        change = TaskChange(title="early, edited")
        row = await slow.fetchrow(STATEMENTS["tasks/update"].text, user, UUID(early["id"]), None, *change, None)
        assert row is not None and row["outcome"] == "changed"
        position, seen = await _updated_at_walk(url, user, position)
        assert seen == {late["id"]}  # the walk moves past the slow transaction's earlier timestamp
        await transaction.commit()
    finally:
        await slow.close()

    _, seen = await _updated_at_walk(url, user, position)
    assert early["id"] not in seen, "the updated_at walk should have missed the early timestamp"
    await feed.sync(http, user)
    assert feed.tasks[early["id"]]["title"] == "early, edited"  # the feed did not
    assert feed.tasks[late["id"]]["title"] == "late, edited"


Position = tuple[datetime, str] | None


async def _updated_at_walk(url: str, user: str, after: Position) -> tuple[Position, set[str]]:
    """What a feed ordered by updated_at would send: tasks after the last (updated_at, id) it sent."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT updated_at, id::text AS id FROM tasks WHERE user_id = $1"
            " AND ($2::timestamptz IS NULL OR (updated_at, id::text) > ($2::timestamptz, $3::text))"
            " ORDER BY updated_at, id",
            user,
            *(after or (None, None)),
        )
    finally:
        await connection.close()
    position = (rows[-1]["updated_at"], rows[-1]["id"]) if rows else after
    return position, {row["id"] for row in rows}
