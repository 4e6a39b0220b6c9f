"""Bench users, their tokens, seeding through the HTTP API, and the data file the wrk script reads."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvloop

READERS, READER_TASKS = 100, 100  # list-100 reads these users
BIG, BIG_TASKS = 5, 1_000  # list-1000 reads these
WRITERS = 100  # no seeded tasks: every create of the bench goes to them
SEED_CONCURRENCY = 50  # requests in flight, in all
SEED_PROCESSES = 2
SEED_TIMEOUT_SECONDS = 300
TOKEN_TTL_SECONDS = 7 * 24 * 3600
PRIORITIES = ("low", "medium", "high")
Ids = dict[str, list[str]]  # user -> ids of the tasks created for them


@dataclass
class Users:
    readers: list[str]
    big: list[str]
    writers: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, list[str]] = field(default_factory=dict)  # user -> ids of the seeded tasks

    @property
    def all(self) -> list[str]:
        return self.readers + self.big + self.writers


def make_users(secret: str) -> Users:
    users = Users(
        readers=[f"bench_reader_{i:03d}" for i in range(1, READERS + 1)],
        big=[f"bench_big_{i}" for i in range(1, BIG + 1)],
        writers=[f"bench_writer_{i:03d}" for i in range(1, WRITERS + 1)],
    )
    now = int(time.time())
    for user in users.all:  # what a front end signing with the shared secret would send
        claims = {"sub": user, "iat": now, "exp": now + TOKEN_TTL_SECONDS}
        users.tokens[user] = jwt.encode(claims, secret, algorithm="HS256")
    return users


def task_body(user: str, n: int) -> dict[str, Any]:
    """A realistic task: a get-one response of it is about 500 bytes."""
    return {
        "title": f"Task {n} of {user}: prepare the quarterly report",
        "description": "Collect the numbers from finance, check them against last quarter, draft the summary.",
        "priority": PRIORITIES[n % 3],
        "tags": ["work", f"q{n % 4 + 1}"],
        "due_date": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}T17:00:00Z",
    }


async def _post_all(base_url: str, jobs: list[tuple[str, int]], tokens: dict[str, str], concurrency: int) -> Ids:
    created: Ids = {}
    pending = iter(jobs)  # shared by the workers: next() never awaits, so each job is taken once

    async def worker() -> None:
        # One client of one connection per worker: httpcore scans its whole pool on every request, which
        # with one 50-connection pool made the client, not the service, the bottleneck (~100 req/s).
        async with httpx.AsyncClient(base_url=base_url, limits=httpx.Limits(max_connections=1), timeout=30) as client:
            for user, n in pending:
                body = json.dumps(task_body(user, n)).encode()
                headers = {"Authorization": f"Bearer {tokens[user]}", "Content-Type": "application/json"}
                response = await client.post(f"/api/{user}/tasks", content=body, headers=headers)
                if response.status_code != 201:
                    raise RuntimeError(f"seeding {user}: {response.status_code} {response.text[:300]}")
                created.setdefault(user, []).append(response.json()["data"]["id"])

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), SEED_TIMEOUT_SECONDS)
    return created


def _seed_process(base_url: str, jobs: list[tuple[str, int]], tokens: dict[str, str], concurrency: int) -> Ids:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_post_all(base_url, jobs, tokens, concurrency))


def seed(base_url: str, users: Users) -> int:
    """POST every seeded task through the API, SEED_CONCURRENCY at a time in all; returns how many.

    httpx costs more CPU per request than the service does, so the client runs in SEED_PROCESSES
    processes (one per core), SEED_CONCURRENCY / SEED_PROCESSES requests in flight each.
    """
    jobs = [(user, n) for user in users.readers for n in range(READER_TASKS)]
    jobs += [(user, n) for user in users.big for n in range(BIG_TASKS)]
    share = SEED_CONCURRENCY // SEED_PROCESSES
    with ProcessPoolExecutor(SEED_PROCESSES) as pool:
        parts = [jobs[i::SEED_PROCESSES] for i in range(SEED_PROCESSES)]
        futures = [pool.submit(_seed_process, base_url, part, users.tokens, share) for part in parts]
        for future in futures:
            for user, ids in future.result(timeout=SEED_TIMEOUT_SECONDS + 30).items():
                users.tasks.setdefault(user, []).extend(ids)
    return sum(len(ids) for ids in users.tasks.values())


def get_one_body_bytes(base_url: str, users: Users) -> int:
    """The size of a real get-one response body, which the HTTP floor copies."""
    user = users.readers[0]
    response = httpx.get(
        f"{base_url}/api/{user}/tasks/{users.tasks[user][0]}",
        headers={"Authorization": f"Bearer {users.tokens[user]}"},
    )
    response.raise_for_status()
    return len(response.content)


def _lua(value: Any) -> str:
    """A Lua literal for str/int/list/dict; JSON string escapes are valid Lua escapes for our ASCII data."""
    if isinstance(value, str | int):
        return json.dumps(value)
    if isinstance(value, list):
        return "{" + ",".join(_lua(v) for v in value) + "}"
    return "{" + ",".join(f"[{json.dumps(k)}]={_lua(v)}" for k, v in value.items()) + "}"


def write_lua_data(users: Users, path: Path) -> None:
    """The per-run table bench/lua/api.lua loads in init(): paths, header tables with tokens, bodies."""
    everyone = users.all
    index = {user: i + 1 for i, user in enumerate(everyone)}  # Lua arrays start at 1
    entries = []
    for user in everyone:
        auth = f"Bearer {users.tokens[user]}"
        entries.append(
            {
                "base": f"/api/{user}/tasks",
                "read": {"Authorization": auth},
                "write": {"Authorization": auth, "Content-Type": "application/json"},
            }
        )
    task_user = [index[user] for user, ids in users.tasks.items() for _ in ids]
    task_id = [task for ids in users.tasks.values() for task in ids]
    ranges = {
        "readers": [1, len(users.readers)],
        "big": [len(users.readers) + 1, len(users.readers) + len(users.big)],
        "writers": [len(users.readers) + len(users.big) + 1, len(everyone)],
    }
    bodies = [json.dumps(task_body("a new user", n)) for n in range(64)]
    table = {"users": entries, "task_user": task_user, "task_id": task_id, "create_bodies": bodies, **ranges}
    path.write_text("return " + _lua(table) + "\n")
