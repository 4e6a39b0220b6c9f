"""The batch row: 100 creates as one POST /tasks/batch against 100 single POSTs, on the same connections.

CLIENTS clients, one keep-alive connection each, create tasks for DURATION seconds in units of 100: either
one batch of 100 `create` operations or 100 POSTs one after another. The row reports tasks created per
second both ways, their ratio, and the time per 100 tasks (p50, p95). A batch is one round trip and one
transaction where the POSTs are 100 of each; the ratio says what that saves on this machine.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass

import httpx
import jwt

CLIENTS = 4
UNIT = 100  # tasks per unit of work: one batch, or this many POSTs


@dataclass
class Way:
    tasks: int
    seconds: float
    units: list[float]  # seconds per UNIT tasks
    errors: int

    @property
    def tasks_per_second(self) -> float:
        return self.tasks / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.units)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


@dataclass
class BatchResult:
    clients: int
    singles_tasks_per_s: float
    batch_tasks_per_s: float
    ratio: float
    singles_ms_per_100: tuple[float, float]  # p50, p95
    batch_ms_per_100: tuple[float, float]
    errors: int

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _token(secret: str, user: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + 3600}, secret, algorithm="HS256")


async def _client(url: str, secret: str, batched: bool, until: float) -> Way:
    user = f"bench_batch_{uuid.uuid4().hex[:10]}"
    headers = {"Authorization": f"Bearer {_token(secret, user)}"}
    limits = httpx.Limits(max_connections=1)
    units: list[float] = []
    errors = 0
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        while time.monotonic() < until:
            began = time.monotonic()
            if batched:
                operations = [{"op": "create", "data": {"title": f"batched {n}"}} for n in range(UNIT)]
                response = await http.post(f"/api/{user}/tasks/batch", json={"operations": operations})
                errors += response.status_code != 200
            else:
                for n in range(UNIT):
                    response = await http.post(f"/api/{user}/tasks", json={"title": f"single {n}"})
                    errors += response.status_code != 201
            units.append(time.monotonic() - began)
    return Way(len(units) * UNIT, time.monotonic() - started, units, errors)


async def _way(url: str, secret: str, batched: bool, duration: float) -> Way:
    until = time.monotonic() + duration
    ways = await asyncio.gather(*(_client(url, secret, batched, until) for _ in range(CLIENTS)))
    seconds = max(way.seconds for way in ways)
    units = [unit for way in ways for unit in way.units]
    return Way(sum(way.tasks for way in ways), seconds, units, sum(way.errors for way in ways))


async def run(url: str, secret: str, duration: float) -> BatchResult:
    singles = await _way(url, secret, batched=False, duration=duration)
    batches = await _way(url, secret, batched=True, duration=duration)
    ratio = batches.tasks_per_second / singles.tasks_per_second if singles.tasks_per_second else 0.0
    return BatchResult(
        clients=CLIENTS,
        singles_tasks_per_s=round(singles.tasks_per_second, 1),
        batch_tasks_per_s=round(batches.tasks_per_second, 1),
        ratio=round(ratio, 1),
        singles_ms_per_100=(round(singles.percentile_ms(0.5), 1), round(singles.percentile_ms(0.95), 1)),
        batch_ms_per_100=(round(batches.percentile_ms(0.5), 1), round(batches.percentile_ms(0.95), 1)),
        errors=singles.errors + batches.errors,
    )


def print_row(result: BatchResult) -> None:
    print(
        f"  batch of {UNIT} creates vs {UNIT} POSTs, {result.clients} clients: "
        f"{result.batch_tasks_per_s:,.0f} vs {result.singles_tasks_per_s:,.0f} tasks/s ({result.ratio:.1f}x); "
        f"per {UNIT} tasks p50 {result.batch_ms_per_100[0]:.1f} vs {result.singles_ms_per_100[0]:.1f} ms; "
        f"1 vs {UNIT} round trips; errors {result.errors}",
        flush=True,
    )
