"""The live-updates row: STREAMS open event streams on one worker while writes run at WRITES_PER_SECOND.

Each of USERS users has STREAMS / USERS streams open (tabs, devices) and one task; a writer PATCHes the
users' tasks round-robin through the HTTP API, one write per user at a time, so the k-th write of a user
takes its change counter from h to h + 1. Each event's cursor says which change it is at or after (the
bench reads the counter out of the cursor, a format of this project; clients never need to), so for every
stream of the written user the bench knows when the first event covering the write arrived.

Commit-to-event is measured on the bench's clock: the bench LISTENs on the same channel as the service,
so the moment its own connection receives a write's notification is the commit as any listener sees it;
the latency is from then to the event read off the stream (the service's own path: its LISTEN connection,
the fan-out, the stream, the socket). Write-sent-to-event is reported too: an upper bound that also holds
the write request's own time. After the last write, events still have SETTLE_SECONDS to arrive; a (write,
stream) pair that never got one is missed. The worker's memory per open stream is its RSS growth from
opening the streams, divided by their number.

The stream client is raw asyncio sockets (HTTP/1.1, chunked), light enough that 1,000 streams cost the
client little of the CPU it shares with the service.
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import jwt

STREAMS = 1_000
USERS = 250
WRITES_PER_SECOND = 100
OPEN_CONCURRENCY = 50  # streams being opened at once
SETTLE_SECONDS = 5.0
OPEN_TIMEOUT_SECONDS = 120.0


@dataclass
class Write:
    seq: int  # the user's change counter after this write
    sent: float  # monotonic
    answered: float | None = None


@dataclass
class LiveResult:
    streams: int
    users: int
    writes: int
    write_errors: int
    deliveries: int  # (write, stream) pairs that got their event
    missed: int  # pairs that never did
    p50_ms: float  # commit (the notification, as the bench's own LISTEN connection received it) to event
    p95_ms: float
    p99_ms: float
    sent_p95_ms: float  # write sent to event: the write request's own time included
    write_p95_ms: float  # the write request alone
    server_p95_ms: float | None  # tasks_sse_event_delay_seconds (notification to event), from its buckets
    rss_before_mib: float
    rss_streams_mib: float
    kib_per_stream: float
    seconds: float

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def cursor_seq(cursor: str) -> int:
    """The change counter a feed cursor stands at: base64url(JSON [seq, after_id, walk_head]) '.' signature."""
    body = cursor.partition(".")[0]
    seq: int = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))[0]
    return seq


class Stream:
    """One event stream over a raw socket; `seen` is the highest change counter an event has covered."""

    def __init__(self, user: str, token: str, writes: list[Write]) -> None:
        self.user, self.token = user, token
        self.writes = writes
        self.delivered: list[tuple[Write, float]] = []  # each write covered, and when its event came
        self.seen = -1
        self.first = asyncio.Event()
        self._covered = 0  # writes[:_covered] are covered by an event already
        self._writer: asyncio.StreamWriter | None = None

    async def open(self, host: str, port: int) -> asyncio.StreamReader:
        reader, self._writer = await asyncio.open_connection(host, port)
        request = (
            f"GET /api/{self.user}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        self._writer.write(request.encode())
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream for {self.user}: {status.decode(errors='replace').strip()}")
        while await reader.readline() not in (b"\r\n", b""):
            pass
        return reader

    async def run(self, reader: asyncio.StreamReader) -> None:
        buffer = b""
        while size_line := await reader.readline():
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                return
            buffer += (await reader.readexactly(size + 2))[:-2]
            *messages, buffer = buffer.split(b"\r\n\r\n")
            for message in messages:
                self._on_message(message)

    def _on_message(self, message: bytes) -> None:
        for line in message.split(b"\r\n"):
            if line.startswith(b"id: "):
                self._on_head(cursor_seq(line[4:].decode()), time.monotonic())
                return

    def _on_head(self, seq: int, now: float) -> None:
        if self.seen < 0:  # the first event: the head when the stream opened
            self.seen = seq
            self._covered = sum(1 for w in self.writes if w.seq <= seq)
            self.first.set()
            return
        self.seen = max(self.seen, seq)
        while self._covered < len(self.writes) and self.writes[self._covered].seq <= self.seen:
            self.delivered.append((self.writes[self._covered], now))
            self._covered += 1

    def missed(self) -> int:
        return sum(1 for w in self.writes[self._covered :] if w.seq > self.seen)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def histogram_p95(metrics_text: str, name: str) -> float | None:
    """The 95th percentile of a Prometheus histogram, interpolated within its bucket (coarse)."""
    buckets: list[tuple[float, float]] = []
    for line in metrics_text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return None
    target, previous_bound, previous_count = 0.95 * buckets[-1][1], 0.0, 0.0
    for bound, count in buckets:
        if count >= target:
            if bound == float("inf"):
                return previous_bound
            return previous_bound + (bound - previous_bound) * (target - previous_count) / (count - previous_count)
        previous_bound, previous_count = bound, count
    return None


async def _seed(client: httpx.AsyncClient, users: list[str], tokens: dict[str, str]) -> dict[str, str]:
    tasks: dict[str, str] = {}
    for user in users:
        response = await client.post(
            f"/api/{user}/tasks", json={"title": "watched"}, headers={"Authorization": f"Bearer {tokens[user]}"}
        )
        response.raise_for_status()
        tasks[user] = response.json()["data"]["id"]
    return tasks


async def run(base_url: str, db_url: str, secret: str, worker_pid: int, duration: float) -> LiveResult:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    now = int(time.time())
    users = [f"live_{i:04d}" for i in range(USERS)]
    tokens = {u: jwt.encode({"sub": u, "iat": now, "exp": now + 3600}, secret, algorithm="HS256") for u in users}
    writes: dict[str, list[Write]] = {u: [] for u in users}
    notified: dict[tuple[str, int], float] = {}  # (user, change counter) -> when the bench's LISTEN heard it
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        task_ids = await _seed(client, users, tokens)
        rss_before = rss_mib(worker_pid)
        streams = [Stream(users[i % USERS], tokens[users[i % USERS]], writes[users[i % USERS]]) for i in range(STREAMS)]
        listener = await asyncpg.connect(db_url)
        await listener.add_listener("task_changes", lambda *args: _heard(notified, args[-1]))
        readers = await _open_all(streams, host, port)
        try:
            await asyncio.wait_for(asyncio.gather(*(s.first.wait() for s in streams)), OPEN_TIMEOUT_SECONDS)
            await asyncio.sleep(1.0)  # let the worker settle before reading its memory
            rss_streams = rss_mib(worker_pid)
            started = time.monotonic()
            errors = await _write(client, users, tokens, task_ids, writes, streams, duration)
            seconds = time.monotonic() - started
            await asyncio.sleep(SETTLE_SECONDS)
            server_p95 = histogram_p95((await client.get("/metrics")).text, "tasks_sse_event_delay_seconds")
        finally:
            await listener.close()
            for stream in streams:
                stream.close()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
    delivered = [(s.user, write, at) for s in streams for write, at in s.delivered]
    # An event can be read in the same loop turn as the bench's own notification, before it: that is 0.
    committed = sorted(max(0.0, at - notified.get((user, w.seq), w.sent)) * 1000 for user, w, at in delivered)
    committed = committed or [0.0]
    sent = sorted((at - w.sent) * 1000 for _, w, at in delivered) or [0.0]
    requests = sorted((w.answered - w.sent) * 1000 for ws in writes.values() for w in ws if w.answered) or [0.0]
    return LiveResult(
        streams=STREAMS,
        users=USERS,
        writes=sum(len(w) for w in writes.values()),
        write_errors=errors,
        deliveries=len(delivered),
        missed=sum(s.missed() for s in streams),
        p50_ms=statistics.median(committed),
        p95_ms=_percentile(committed, 0.95),
        p99_ms=_percentile(committed, 0.99),
        sent_p95_ms=_percentile(sent, 0.95),
        write_p95_ms=_percentile(requests, 0.95),
        server_p95_ms=None if server_p95 is None else server_p95 * 1000,
        rss_before_mib=rss_before,
        rss_streams_mib=rss_streams,
        kib_per_stream=(rss_streams - rss_before) * 1024 / STREAMS,
        seconds=seconds,
    )


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[int(share * (len(ordered) - 1))]


def _heard(notified: dict[tuple[str, int], float], payload: object) -> None:
    change = json.loads(str(payload))
    notified[(change["user_id"], change["seq"])] = time.monotonic()


async def _open_all(streams: list[Stream], host: str, port: int) -> list[asyncio.Task[None]]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    readers: list[asyncio.Task[None]] = []

    async def open_one(stream: Stream) -> None:
        async with gate:
            reader = await stream.open(host, port)
            readers.append(asyncio.create_task(stream.run(reader)))
            await stream.first.wait()

    await asyncio.wait_for(asyncio.gather(*(open_one(s) for s in streams)), OPEN_TIMEOUT_SECONDS)
    return readers


async def _write(
    client: httpx.AsyncClient,
    users: list[str],
    tokens: dict[str, str],
    task_ids: dict[str, str],
    writes: dict[str, list[Write]],
    streams: list[Stream],
    duration: float,
) -> int:
    """PATCH at WRITES_PER_SECOND on a fixed schedule (a slow answer never delays the next send)."""
    heads = {s.user: s.seen for s in streams}  # every stream of a user opened at the same head
    locks = {u: asyncio.Lock() for u in users}
    errors = 0

    async def one(n: int, user: str) -> None:
        nonlocal errors
        async with locks[user]:  # one write per user at a time: the k-th write makes the counter h + k
            heads[user] += 1
            write = Write(seq=heads[user], sent=time.monotonic())
            writes[user].append(write)
            response = await client.patch(
                f"/api/{user}/tasks/{task_ids[user]}",
                json={"title": f"write {n}"},
                headers={"Authorization": f"Bearer {tokens[user]}"},
            )
            write.answered = time.monotonic()
            if response.status_code != 200:
                errors += 1

    loop = asyncio.get_running_loop()
    start, pending = loop.time(), []
    for n in range(int(duration * WRITES_PER_SECOND)):
        await asyncio.sleep(max(0.0, start + n / WRITES_PER_SECOND - loop.time()))
        pending.append(asyncio.create_task(one(n, users[n % len(users)])))
    await asyncio.gather(*pending)
    return errors


def print_row(result: LiveResult) -> None:
    server = "-" if result.server_p95_ms is None else f"{result.server_p95_ms:.1f}"
    print(
        f"\nlive updates (1 worker): {result.streams} streams ({result.users} users), {result.writes} writes "
        f"at {WRITES_PER_SECOND}/s over {result.seconds:.1f} s\n"
        f"  commit -> event: p50 {result.p50_ms:.1f} ms  p95 {result.p95_ms:.1f} ms  p99 {result.p99_ms:.1f} ms"
        f"  (server's notification -> event p95 {server} ms)\n"
        f"  write sent -> event p95 {result.sent_p95_ms:.1f} ms"
        f" (the write request alone: p95 {result.write_p95_ms:.1f} ms)\n"
        f"  deliveries {result.deliveries}, missed {result.missed}, write errors {result.write_errors}\n"
        f"  worker RSS {result.rss_before_mib:.1f} -> {result.rss_streams_mib:.1f} MiB with the streams open: "
        f"{result.kib_per_stream:.1f} KiB per stream"
    )
