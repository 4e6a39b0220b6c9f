"""Many clients moving and creating in one sibling list at once: distinct positions, and a serial order.

Every placing write holds the user's counter lock while it reads the gap and writes its key, so the
writes run one after another in counter order. The test reads that order back (each task is placed by
exactly one concurrent write, so its change_seq is that write's), replays the writes in it, and asks
for the very list the server holds.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import asyncpg
import httpx

from tests.order.helpers import create, move

SEED_TASKS = 20
CREATES = 20
MOVES = 15


async def test_concurrent_moves_and_creates_end_in_the_order_of_some_serial_run(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    user = f"user_{uuid.uuid4().hex[:12]}"
    seeded = [await create(http, user, title=f"T{i}") for i in range(SEED_TASKS)]
    rng = random.Random(13)
    movers = rng.sample(seeded, MOVES)
    plans: list[tuple[str, Any]] = [("create", f"N{i}") for i in range(CREATES)]
    for task in movers:
        after = rng.choice([None, *(other["id"] for other in seeded if other["id"] != task["id"])])
        plans.append(("move", (task, after)))
    rng.shuffle(plans)

    async def run(plan: tuple[str, Any]) -> dict[str, Any]:
        kind, arg = plan
        if kind == "create":
            return await create(http, user, title=arg)
        task, after = arg
        answer: dict[str, Any] = (await move(http, user, task["id"], after_id=after))["data"]
        return answer

    results = await asyncio.gather(*(run(plan) for plan in plans))

    rows = await db.fetch(
        "SELECT id::text, position, change_seq FROM tasks WHERE user_id = $1 AND status <> 'deleted'", user
    )
    positions = [row["position"] for row in rows]
    assert len(set(positions)) == len(positions) == SEED_TASKS + CREATES
    seq = {row["id"]: row["change_seq"] for row in rows}
    actual = [row["id"] for row in sorted(rows, key=lambda row: (row["position"].encode(), row["id"]))]

    # The writes that changed something, in the order their counter values say they ran.
    done: list[tuple[int, str, str, str | None]] = []
    for (kind, arg), result in zip(plans, results, strict=True):
        if kind == "create":
            done.append((seq[result["id"]], "create", result["id"], None))
        elif result["version"] > arg[0]["version"]:  # a move to where the task already was changed nothing
            done.append((seq[result["id"]], "move", result["id"], arg[1]))
    assert len({entry[0] for entry in done}) == len(done)  # one counter value per write
    expected = [task["id"] for task in seeded]
    for _, kind, task_id, after in sorted(done):
        if kind == "create":
            expected.append(task_id)  # a new task goes last
        else:
            expected.remove(task_id)
            expected.insert(0 if after is None else expected.index(after) + 1, task_id)
    assert actual == expected
