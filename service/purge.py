"""`python -m service purge`: tombstones older than SYNC_RETENTION_DAYS go, one user per transaction.

Each user's purge raises that user's horizon in the same statement, so a feed cursor from before the
purge is answered 410 (the client syncs again in full) instead of silently missing a deletion.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from service.config import Settings
from service.gateway import Gateway

log = logging.getLogger("service.purge")


class PurgeReport(NamedTuple):
    users: int
    tombstones: int


async def purge(settings: Settings, dsn: str, *, now: datetime | None = None) -> PurgeReport:
    deleted_before = (now or datetime.now(UTC)) - timedelta(days=settings.sync_retention_days)
    gateway = await Gateway.open(settings, dsn)
    try:
        users = await gateway.purge_candidates(deleted_before)
        tombstones = 0
        for user_id in users:
            tombstones += await gateway.purge_tombstones(user_id, deleted_before)
    finally:
        await gateway.close()
    log.info("purged %d tombstones of %d users, deleted before %s", tombstones, len(users), deleted_before)
    return PurgeReport(len(users), tombstones)
