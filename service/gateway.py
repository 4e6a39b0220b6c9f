"""The one door to PostgreSQL: an asyncpg pool and one typed method per SQL statement, user_id first."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from service import ordering, positions
from service.completion import Locked, with_next_due
from service.config import Settings
from service.errors import (
    FieldError,
    IdempotencyKeyReused,
    PreconditionFailed,
    TaskExists,
    TaskNotFound,
    Unavailable,
    ValidationFailed,
)
from service.feed import FeedQuery, FeedRead
from service.list_sql import SORTS, render
from service.listing import ListQuery
from service.notices import Notices
from service.schemas import DELETION, Task, TaskChange, TaskCreate, TaskMove
from service.statements import STATEMENTS, Statement
from service.task_json import PageText, TaskText

log = logging.getLogger("service.gateway")

PING = STATEMENTS["system/ping"]
CREATE_TASK = STATEMENTS["tasks/create"]
GET_TASK = STATEMENTS["tasks/get"]
LIST_TASKS = STATEMENTS["tasks/list"]
FIND_IDEMPOTENT = STATEMENTS["tasks/find_idempotent"]
UPDATE_TASK = STATEMENTS["tasks/update"]
LOCK_TASK = STATEMENTS["tasks/lock"]
HEAD_SEQ = STATEMENTS["sync/head"]
CHANGES = STATEMENTS["sync/changes"]
PURGE_CANDIDATES = STATEMENTS["system/purge_candidates"]
PURGE_TOMBSTONES = STATEMENTS["sync/purge"]
NOTIFY_CHANGES = STATEMENTS["system/notify_changes"]
LOCK_COUNTER = STATEMENTS["sync/lock"]
PLACEMENT = STATEMENTS["tasks/placement"]
MOVE_TARGET = STATEMENTS["tasks/move_target"]
SIBLINGS = STATEMENTS["tasks/siblings"]
PLACE_TASKS = STATEMENTS["tasks/place"]
TASK_FIELDS = len(Task.__struct_fields__)
CLAIM_BATCH_KEY = STATEMENTS["batch/claim_key"]
FIND_BATCH_KEY = STATEMENTS["batch/find_key"]
KEEP_BATCH_ANSWER = STATEMENTS["batch/keep_answer"]

# asyncpg replaces a pooled connection after `max_queries` (50,000 by default). Connections opened together
# reach the count together: at 1,200 req/s a pool of 10 was replaced within 15 s, a 20% dip and a 1 s
# request. Count-based recycling guards against a backend's memory growing with use; here that memory is
# bounded (at most DB_STATEMENT_CACHE_SIZE prepared statements per connection, no temporary tables, no
# session state), so it is off in effect: a connection lives until it breaks or sits idle for
# IDLE_CONNECTION_SECONDS. Idle connections go one at a time as load falls, never all at once under load.
MAX_QUERIES_PER_CONNECTION = 2**62
IDLE_CONNECTION_SECONDS = 300.0
# However much progress the pool makes, no request waits longer than this for a connection.
MAX_QUEUE_SECONDS = 60.0

# Failures that mean "the database is not there right now": the client should retry, not report a bug.
_UNAVAILABLE = (
    asyncio.TimeoutError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.InterfaceError,
    asyncpg.AdminShutdownError,
)
# The database's own last line of defence against a value the structs should already have refused.
_INVALID = (asyncpg.CheckViolationError, asyncpg.NotNullViolationError, asyncpg.StringDataRightTruncationError)
_INVALID_MESSAGE = "A value breaks a rule of the task; check the fields against the API."
# Outcomes of tasks/create and tasks/update that ask for the statement again, after sync/lock in a transaction.
_UNDER_THE_LOCK = frozenset({"behind", "no_key", "recurs"})
FRESH_RETRIES = 1  # a statement 'behind' is run again alone this many times before it takes the lock's transaction


class _Connection(asyncpg.Connection):
    """A pooled connection whose release skips asyncpg's reset query.

    asyncpg runs `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;` on every release:
    a round trip per request. It has nothing to undo here: no statement in sql/ sets a session variable,
    takes an advisory lock, LISTENs or leaves a cursor open, and the transactions that hold a user's
    counter lock commit or roll back (releasing it) before the connection goes back.
    asyncpg still rolls back a transaction left open (Connection._reset) without it.
    Revisit this if a statement ever uses SET, advisory locks, LISTEN or cursors.
    """

    def get_reset_query(self) -> str:
        return ""


class Idempotency(NamedTuple):
    key: str
    digest: bytes  # of the parsed request body: same JSON, same digest, whatever the key order or spacing


class Gateway:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._patience = settings.db_pool_timeout_seconds
        self._served = 0  # connections given back after work the database finished: the pool's progress
        # The requests waiting for a connection (their tasks, since when), watched by one timer (_check).
        self._waiters: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.TimerHandle | None = None
        self._checked_at = 0.0
        self._served_at_check = 0
        self._notices = Notices(self._notify)

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection right now."""
        return len(self._waiters)

    @classmethod
    async def open(cls, settings: Settings, dsn: str) -> Gateway:
        """Open the pool; if the database is down, start anyway with an empty pool and report 503 until it is up."""
        options: dict[str, Any] = {
            "dsn": dsn,
            "max_size": settings.db_pool_max_size,
            "command_timeout": settings.db_statement_timeout_ms / 1000,
            "statement_cache_size": settings.db_statement_cache_size,
            "timeout": settings.db_pool_timeout_seconds,  # to connect
            "max_queries": MAX_QUERIES_PER_CONNECTION,
            "max_inactive_connection_lifetime": IDLE_CONNECTION_SECONDS,
            "server_settings": {"application_name": "tasks-service"},
            "connection_class": _Connection,
        }
        try:
            pool = await asyncpg.create_pool(min_size=settings.db_pool_min_size, **options)
        except (*_UNAVAILABLE, asyncpg.PostgresError) as error:
            log.warning("database not reachable at start-up (%s); serving 503 until it is", type(error).__name__)
            pool = await asyncpg.create_pool(min_size=0, **options)
        return cls(pool, settings)

    async def close(self) -> None:
        await self._notices.close()
        await self._pool.close()

    def pool_size(self) -> int:
        return self._pool.get_size()

    def pool_idle(self) -> int:
        return self._pool.get_idle_size()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[PoolConnectionProxy]:
        try:
            connection = await self._acquire()
            try:
                yield connection
            except _UNAVAILABLE:
                raise  # a timeout or a lost connection: no progress
            except BaseException:
                self._served += 1  # the database answered (a constraint, a missing row...)
                raise
            else:
                self._served += 1
            finally:
                await self._pool.release(connection)
        except _UNAVAILABLE as error:
            log.warning("database unavailable: %s", type(error).__name__)
            raise Unavailable() from error
        except _INVALID as error:
            raise ValidationFailed(_INVALID_MESSAGE) from error

    async def _acquire(self) -> PoolConnectionProxy:
        """A pooled connection, waiting in line as long as the pool makes progress.

        DB_POOL_TIMEOUT_SECONDS is the patience for a pool that makes none: when a whole such span passes
        without any connection coming back from finished work, every connection is held by slow
        statements (or the database hangs), and the wait ends in TimeoutError (503). A worker whose CPU is
        saturated also makes requests wait long, but its connections keep coming back: those requests
        queue (up to MAX_QUEUE_SECONDS) instead of answering 503 for work the database could do.
        Connecting to a database that is down fails on its own (refused, or the connect timeout).

        One timer per gateway watches every waiter, not one per request: a request that finds an idle
        connection pays a dictionary entry, not a timer (a tenth of get-one's Python time with one).
        """
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        self._waiters[task] = now = loop.time()
        if self._watch is None:
            self._start_watch(loop, now)
        try:
            connection: PoolConnectionProxy = await self._pool.acquire()
            return connection
        except asyncio.CancelledError:
            if task in self._expired and task.uncancel() == 0:  # ours alone, as asyncio.timeout decides
                raise TimeoutError from None
            raise
        finally:
            del self._waiters[task]
            self._expired.discard(task)

    def _start_watch(self, loop: asyncio.AbstractEventLoop, now: float) -> None:
        self._checked_at, self._served_at_check = now, self._served
        self._watch = loop.call_later(self._patience, self._check, loop)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        """Every patience span while requests wait: without progress since the last check, those that were
        already waiting then have waited a whole span for nothing; end their waits (and any past the bound)."""
        now = loop.time()
        stalled = self._served == self._served_at_check
        for task, since in self._waiters.items():
            if task not in self._expired and (
                (stalled and since <= self._checked_at) or now - since >= MAX_QUEUE_SECONDS
            ):
                self._expired.add(task)
                task.cancel()
        self._watch = None
        if self._waiters:
            self._start_watch(loop, now)

    async def _one(self, statement: Statement, user_id: str, *params: Any) -> asyncpg.Record | None:
        async with self._connection() as connection:
            return await connection.fetchrow(statement.text, user_id, *params)

    async def _one_row(self, text: str, user_id: str, *params: Any) -> asyncpg.Record:
        """The row of a statement that always returns exactly one (an aggregate without GROUP BY)."""
        async with self._connection() as connection:
            row = await connection.fetchrow(text, user_id, *params)
        assert row is not None
        return row

    async def _one_fresh(self, statement: Statement, user_id: str, *params: Any) -> asyncpg.Record | None:
        """A statement that answers 'behind' when another write of the user committed while it queued for the
        counter lock: tried once more (its new snapshot has that write), since under load a user's writes
        often queue behind one another, before the caller takes the transaction of sync/lock."""
        row = await self._one(statement, user_id, *params)
        for _ in range(FRESH_RETRIES):
            if row is None or row["outcome"] != "behind":
                break
            row = await self._one(statement, user_id, *params)
        return row

    @asynccontextmanager
    async def _locked(self, user_id: str) -> AsyncIterator[PoolConnectionProxy]:
        """A transaction holding the user's counter lock: what its statements read stays true until commit."""
        async with self._connection() as connection, connection.transaction():
            await connection.execute(LOCK_COUNTER.text, user_id)
            yield connection

    @asynccontextmanager
    async def transaction(self, user_id: str) -> AsyncIterator[Transaction]:
        """The task methods below on one connection, in one transaction that holds the user's change counter
        from its first statement to its commit (or rollback, when the block raises): a batch. Its changes
        are announced to the live-update listeners once, after the commit."""
        async with self._locked(user_id) as connection:
            transaction = Transaction(connection)
            yield transaction
        if transaction.change is not None:
            self._notices.changed(user_id, transaction.change)

    async def ping(self, within: float) -> None:
        try:
            async with self._pool.acquire(timeout=within) as connection:
                await connection.fetchval(PING.text, timeout=within)
        except (*_UNAVAILABLE, asyncpg.PostgresError) as error:
            raise Unavailable() from error

    # -- the change feed --------------------------------------------------------------------------

    async def _notify(self, payloads: list[str]) -> None:
        """Send a batch of live-update notices (a system statement: one notice per user)."""
        async with self._connection() as connection:
            await connection.execute(NOTIFY_CHANGES.text, payloads)

    async def head_seq(self, user_id: str) -> int:
        """The user's change counter: every change stamped up to it has committed."""
        async with self._connection() as connection:
            return int(await connection.fetchval(HEAD_SEQ.text, user_id))

    async def read_changes(self, user_id: str, query: FeedQuery) -> FeedRead:
        """The counter, the horizon and the changes after the query's position, in one snapshot."""
        return FeedRead(*await self._one_row(CHANGES.text, user_id, *query.after(), query.limit))

    async def purge_candidates(self, deleted_before: datetime) -> list[str]:
        """Every user holding a tombstone deleted before the cutoff (a system statement: it reads across users)."""
        async with self._connection() as connection:
            return [row[0] for row in await connection.fetch(PURGE_CANDIDATES.text, deleted_before)]

    async def purge_tombstones(self, user_id: str, deleted_before: datetime) -> int:
        """Hard-delete the user's tombstones deleted before the cutoff and raise the horizon; how many went."""
        async with self._connection() as connection:
            return int(await connection.fetchval(PURGE_TOMBSTONES.text, user_id, deleted_before))

    # -- tasks ------------------------------------------------------------------------------------

    async def create_task(self, user_id: str, data: TaskCreate, *, idempotency: Idempotency | None = None) -> Task:
        """A new task, last among its siblings; with an Idempotency-Key already claimed, the task it created
        (or 404, or 409). One statement, run again under the user's counter lock when it says it must be
        (tasks/create), so two creates never take the same position."""
        key, digest = (idempotency.key, idempotency.digest) if idempotency else (None, None)
        binds = (*data.binds(), key, digest, data.chosen_id(), data.parent_id)
        row = await self._one_fresh(CREATE_TASK, user_id, *binds, None)
        assert row is not None  # tasks/create always answers one row
        if row["outcome"] in _UNDER_THE_LOCK:
            async with self._locked(user_id) as connection:
                row = await _create_keyed(connection, user_id, binds)
        if row["outcome"] == "created":
            return self._committed(user_id, row[2:])
        # A replay of the request that claimed the key answers as the first did, whatever changed since.
        prior = None if key is None else await self._one(FIND_IDEMPOTENT, user_id, key)
        if prior is not None:
            if prior["id"] is None:
                raise TaskNotFound("The task created with this Idempotency-Key has been deleted.")
            if prior["request_hash"] != digest:
                raise IdempotencyKeyReused()
            return Task(*list(prior.values())[1:])
        if row["outcome"] == "taken":
            raise TaskExists()
        if row["outcome"] == "bad_parent":
            raise ordering.bad_parent()
        raise Unavailable()  # a claimed key without its claim: only a rolled-back claim leaves that

    async def get_task(self, user_id: str, task_id: UUID) -> TaskText:
        row = await self._one(GET_TASK, user_id, task_id)
        if row is None:
            raise TaskNotFound()
        return TaskText(*row)

    async def list_tasks(self, user_id: str, query: ListQuery) -> PageText:
        """One page (and one task beyond it, when another page follows) and the total for the filters."""
        text = list_text(query.sort, query.after is None, query.given())
        after_key, after_id = query.after or (None, None)
        row = await self._one_row(text, user_id, *query.filters(), after_key, after_id, query.limit + 1)
        return PageText(*row)

    async def update_task(self, user_id: str, task_id: UUID, change: TaskChange, *, if_match: int | None) -> Task:
        """The task after the change (or as it is, when the change changes nothing); 404, 412 or 422 otherwise.

        One statement, unless it says a transaction holding the user's counter lock must run it (a change of
        status that may cascade while another write committed, or completing a recurring task, whose next due
        date Python computes), or a parent is sent (its place among the new siblings: tasks/placement)."""
        if change.set_parent:
            row = await self._update_locked(user_id, task_id, change, if_match, recurs=False)
        else:
            row = await self._one_fresh(UPDATE_TASK, user_id, task_id, if_match, *change, None)
            if row is not None and row["outcome"] in _UNDER_THE_LOCK:
                recurs = row["outcome"] == "recurs"
                row = await self._update_locked(user_id, task_id, change, if_match, recurs=recurs)
        if row is None:
            raise TaskNotFound()
        if row["outcome"] == "stale":
            raise PreconditionFailed(row["version"])
        if row["outcome"] == "needs_due":
            field = "due_date" if change.set_due_date else "recurrence"
            raise ValidationFailed.of([FieldError(field, "a recurring task needs a due_date")])
        if row["outcome"] == "unchanged":
            return Task(*row[2:])
        return self._committed(user_id, row[1:])

    async def _update_locked(
        self, user_id: str, task_id: UUID, change: TaskChange, if_match: int | None, *, recurs: bool
    ) -> asyncpg.Record | None:
        """tasks/update after sync/lock, in one transaction: its snapshot then holds every earlier write of
        the user, and nothing changes until it commits. A recurring task completed (`recurs`, or the answer
        says so) gets its next due date computed from the task as locked now."""
        async with self._locked(user_id) as connection:
            position = None
            if change.set_parent:
                place = await _placement(connection, user_id, change.parent_id, task_id)
                position = ordering.new_parent_position(place, change.parent_id, if_match)
            row = None
            if not recurs:
                row = await connection.fetchrow(UPDATE_TASK.text, user_id, task_id, if_match, *change, position)
            if recurs or (row is not None and row["outcome"] == "recurs"):
                locked = await connection.fetchrow(LOCK_TASK.text, user_id, task_id)
                if locked is None:
                    return None  # deleted since the first answer
                change = with_next_due(change, Locked(*locked))
                row = await connection.fetchrow(UPDATE_TASK.text, user_id, task_id, if_match, *change, position)
        return row

    async def move_task(self, user_id: str, task_id: UUID, move: TaskMove, *, if_match: int | None) -> Task:
        """The task at its new place among its (new) siblings, or as it is when it is there already.

        Read, then write in one statement that holds only if no write of the user committed in between
        (tasks/place); otherwise, or to re-space a list whose gap is used up, both under the counter lock."""
        where = (move.keeps_parent(), move.target_parent(), move.after_id)
        target = await self._one(MOVE_TARGET, user_id, task_id, *where)
        task, key = _move_plan(target, if_match)
        if key is None:
            return task
        if target is not None and target["counter"] is not None and not positions.too_long(key):
            binds = (task_id, target["target"], [task_id], [key], target["counter"])
            if (row := await self._one(PLACE_TASKS, user_id, *binds)) is not None:
                return self._committed(user_id, row)
        async with self._locked(user_id) as connection:
            target = await connection.fetchrow(MOVE_TARGET.text, user_id, task_id, *where)
            task, key = _move_plan(target, if_match)
            if target is None or key is None:
                return task
            ids, keys = [task_id], [key]
            if positions.too_long(key):
                siblings = await connection.fetch(SIBLINGS.text, user_id, target["target"])
                ids, keys = ordering.respaced([row["id"] for row in siblings], task_id, move.after_id)
            row = await connection.fetchrow(PLACE_TASKS.text, user_id, task_id, target["target"], ids, keys, None)
        assert row is not None  # the task is live and locked: tasks/place always changes and returns it
        return self._committed(user_id, row)

    def _committed(self, user_id: str, row: asyncpg.Record | tuple[Any, ...]) -> Task:
        """A write that changed something has committed: announce the user's new counter (row[0]) to the
        live-update listeners, after the commit, and return the task (the rest of the row)."""
        self._notices.changed(user_id, row[0])
        return Task(*row[1:])

    async def delete_task(self, user_id: str, task_id: UUID, *, if_match: int | None) -> None:
        await self.update_task(user_id, task_id, DELETION, if_match=if_match)


async def _placement(
    connection: PoolConnectionProxy, user_id: str, parent_id: UUID | None, task_id: UUID | None
) -> asyncpg.Record:
    row = await connection.fetchrow(PLACEMENT.text, user_id, parent_id, task_id)
    assert row is not None  # tasks/placement selects from a one-row VALUES: always one row
    return row


def _move_plan(target: asyncpg.Record | None, if_match: int | None) -> tuple[Task, str | None]:
    """From tasks/move_target: the task and its new key (None: it is there already); 404, 412 or 422."""
    if target is None:
        raise TaskNotFound()
    task = Task(*target[:TASK_FIELDS])
    if if_match is not None and if_match != task.version:
        raise PreconditionFailed(task.version)
    ordering.check_move(target)
    if target["already_there"]:
        return task, None
    return task, ordering.key_between(target["after_position"], target["next_position"])


async def _create_keyed(connection: PoolConnectionProxy, user_id: str, binds: tuple[Any, ...]) -> asyncpg.Record:
    """tasks/create under the counter lock, given the key Python computes when the statement cannot (no_key)."""
    row = await connection.fetchrow(CREATE_TASK.text, user_id, *binds, None)
    if row is not None and row["outcome"] == "no_key":
        position = positions.between(row["last_position"], None)
        row = await connection.fetchrow(CREATE_TASK.text, user_id, *binds, position)
    assert row is not None  # tasks/create always answers one row
    return row


class Transaction(Gateway):
    """The gateway inside Gateway.transaction: the same statements on the transaction's connection, so each
    operation of a batch runs exactly the SQL of its single route. A broken database rule fails the
    operation (422), not the transaction; the connection itself is the outer gateway's to map and release."""

    def __init__(self, connection: PoolConnectionProxy) -> None:  # no pool of its own
        self._held = connection
        self._waiters = {}  # it never waits for a connection
        self.change: int | None = None  # the counter value of the batch's changes, announced after its commit

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[PoolConnectionProxy]:
        try:
            yield self._held
        except _INVALID as error:
            raise ValidationFailed(_INVALID_MESSAGE) from error

    @asynccontextmanager
    async def _locked(self, user_id: str) -> AsyncIterator[PoolConnectionProxy]:
        """The batch took the counter lock before its first operation and holds it: nothing to take again."""
        async with self._connection() as connection:
            yield connection

    def _committed(self, user_id: str, row: asyncpg.Record | tuple[Any, ...]) -> Task:
        """Not committed yet: the batch announces its one change (every operation's: bump_counter) after its commit."""
        self.change = row[0]
        return Task(*row[1:])

    def savepoint(self) -> asyncpg.transaction.Transaction:
        """A nested transaction: what runs inside is undone alone when the block raises."""
        return self._held.transaction()

    async def claim_batch_key(self, user_id: str, idempotency: Idempotency) -> bytes | None:
        """None once the key is this batch's; the answer to send again when a batch with this body holds it."""
        if await self._one(CLAIM_BATCH_KEY, user_id, idempotency.key, idempotency.digest) is not None:
            return None
        prior = await self._one(FIND_BATCH_KEY, user_id, idempotency.key)
        if prior is None or prior["request_hash"] != idempotency.digest or prior["response"] is None:
            raise IdempotencyKeyReused()
        return bytes(prior["response"])

    async def keep_batch_answer(self, user_id: str, key: str, response: bytes) -> None:
        await self._one(KEEP_BATCH_ANSWER, user_id, key, response)


@functools.lru_cache(maxsize=1024)
def list_text(sort: str, first_page: bool, given: frozenset[str]) -> str:
    """tasks/list for one sort, page and set of filters: one prepared statement per shape in use."""
    return render(LIST_TASKS.text, given, SORTS[sort], first_page=first_page)
