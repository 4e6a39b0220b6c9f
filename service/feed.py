"""The change feed of GET /api/{user_id}/tasks/changes: its query, its page and where the next one starts.

The walk orders tasks by (change_seq, id). A page ends either at its last task (more follow) or at
the counter it was read with (nothing follows up to there), so `next_cursor` is never null and a
client that stores it has seen every change up to that counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import msgspec
from litestar.datastructures import MultiDict

from service.errors import FieldError, SyncCursorExpired, ValidationFailed
from service.feed_cursors import FeedCursorCodec, FeedPosition
from service.schemas import Task

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
PARAMETERS = ("cursor", "limit")


class Tombstone(msgspec.Struct, frozen=True):
    """A deleted task, as the feed reports it: its version is the one after the delete."""

    id: UUID
    version: int
    deleted_at: datetime


class Changes(msgspec.Struct, frozen=True):
    changed: list[Task]
    deleted: list[Tombstone]


class ChangesMeta(msgspec.Struct, frozen=True):
    next_cursor: str
    has_more: bool
    full_sync: bool


class ChangesEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    status: str = "success"
    data: Changes
    meta: ChangesMeta


class ChangesJson(msgspec.Struct, frozen=True):
    """Changes with its tasks and tombstones as JSON text (service.task_json)."""

    changed: msgspec.Raw
    deleted: msgspec.Raw


class ChangesEnvelopeJson(msgspec.Struct, frozen=True, kw_only=True):
    """ChangesEnvelope with its changes as JSON text: the body the route sends."""

    status: str = "success"
    data: ChangesJson
    meta: ChangesMeta


class FeedRead(NamedTuple):
    """What one read of the feed (sync/changes) saw, in one snapshot: the counter, the purge horizon, the page's
    tasks and tombstones as JSON arrays, how many changes it read (one beyond the page when more follow), and
    where the page ends."""

    head: int
    horizon: int
    fetched: int
    changed: str
    deleted: str
    last_seq: int | None
    last_id: UUID | None


@dataclass(frozen=True, slots=True)
class FeedQuery:
    position: FeedPosition | None  # None: a full sync starts
    limit: int = DEFAULT_LIMIT

    def after(self) -> tuple[int, UUID | None, int | None]:
        """(after_seq, after_id, tombstones_after) for sync/changes.

        A full sync sends only the tombstones of tasks deleted since it began (the client may have
        received those tasks on an earlier page): none on its first page, those above its start later.
        """
        if self.position is None:
            return 0, None, None
        position = self.position
        return position.seq, position.after_id, -1 if position.walk_head is None else position.walk_head


def parse_feed_query(user_id: str, params: MultiDict[str], codec: FeedCursorCodec) -> FeedQuery:
    """`cursor` and `limit`, each at most once; anything else is 422, every bad parameter named."""
    errors = [FieldError(name, "is not a known query parameter") for name in params if name not in PARAMETERS]
    errors += [
        FieldError(name, "must be given at most once") for name in PARAMETERS if len(params.getall(name, [])) > 1
    ]
    limit = DEFAULT_LIMIT
    if (raw := params.get("limit")) is not None and not _repeated(params, "limit"):
        if raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_LIMIT:
            limit = int(raw)
        else:
            errors.append(FieldError("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
    if errors:
        raise ValidationFailed.of(errors)
    cursor = params.get("cursor")
    return FeedQuery(None if cursor is None else codec.decode(user_id, cursor), limit)


def page(user_id: str, query: FeedQuery, read: FeedRead, codec: FeedCursorCodec) -> ChangesEnvelopeJson:
    """The page the client gets, or 410 when the position is older than the purge horizon."""
    position = query.position
    if position is not None and _expired(position, read):
        raise SyncCursorExpired()
    has_more = read.fetched > query.limit
    full_sync = position is None or position.full_sync
    if has_more:
        assert read.last_seq is not None  # the page is full: sync/changes names its last change
        walk_head = (read.head if position is None else position.walk_head) if full_sync else None
        following = FeedPosition(read.last_seq, read.last_id, walk_head)
    else:
        # Every change up to the counter is sent: the next walk, full sync or not, goes on from there.
        following = FeedPosition(read.head)
    meta = ChangesMeta(next_cursor=codec.encode(user_id, following), has_more=has_more, full_sync=full_sync)
    return ChangesEnvelopeJson(data=ChangesJson(msgspec.Raw(read.changed), msgspec.Raw(read.deleted)), meta=meta)


def _expired(position: FeedPosition, read: FeedRead) -> bool:
    """Could a tombstone this walk still needs have been purged? Purged ones are stamped <= horizon.

    An incremental walk needs every tombstone after its position; a full sync only those above its
    start. A position beyond the counter (the database restored from a backup) cannot be trusted either.
    """
    if position.seq > read.head:
        return True
    if position.walk_head is not None:
        return position.walk_head < read.horizon
    return position.seq < read.horizon or (position.seq == read.horizon and position.after_id is not None)


def _repeated(params: MultiDict[str], name: str) -> bool:
    return len(params.getall(name, [])) > 1
