"""A client of the change feed, as a front end would write one: pull pages, apply them to a replica."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.helpers import auth

MAX_PAGES = 10_000
# Litestar's AsyncTestClient is an httpx.AsyncClient too.
Http = httpx.AsyncClient


async def pull(http: Http, user: str, cursor: str | None = None, limit: int | None = None) -> Any:
    """One page (asserted 200), as parsed JSON."""
    params: dict[str, str | int] = {}
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = limit
    response = await http.get(f"/api/{user}/tasks/changes", params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Replica:
    """What a client holds: tasks by id, and the cursor to sync from next."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursor: str | None = None
    pages: list[Any] = field(default_factory=list)

    def apply(self, page: Any) -> None:
        changed, deleted = page["data"]["changed"], page["data"]["deleted"]
        ids = [task["id"] for task in changed] + [tomb["id"] for tomb in deleted]
        assert len(ids) == len(set(ids)), "an id in both lists, or twice, on one page"
        if page["meta"]["full_sync"] and self.cursor is None:
            self.tasks.clear()
        for task in changed:
            self.tasks[task["id"]] = task
        for tombstone in deleted:
            self.tasks.pop(tombstone["id"], None)
        assert isinstance(page["meta"]["next_cursor"], str) and page["meta"]["next_cursor"]
        self.cursor = page["meta"]["next_cursor"]
        self.pages.append(page)

    async def sync(self, http: Http, user: str, limit: int | None = None) -> None:
        """Pull and apply pages until has_more is false."""
        for _ in range(MAX_PAGES):
            page = await pull(http, user, self.cursor, limit)
            self.apply(page)
            if not page["meta"]["has_more"]:
                return
        raise AssertionError("the feed walk did not end")
