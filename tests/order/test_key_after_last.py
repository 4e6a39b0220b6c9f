"""A create's position, computed by tasks/create where it can and by service/positions.py where it cannot,
is always positions.between(last sibling's, None): the key a front end computes with fractional-indexing."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from service import positions
from tests.order.helpers import create

KEYS = [
    "a0",  # the first key of a list
    "a5",
    "ay",
    "az",  # 'a' + all 'z's: the head letter changes (b00), Python's
    "b0z",  # a carry through one 'z'
    "bzy",
    "bzz",  # c000, Python's
    "a1V",  # a fractional part is dropped: the next integer
    "a0zzzV",
    "Zz",  # the largest negative integer: a0, Python's
    "Y0z",  # negative heads count down: Y has two digits
    "Xzzy",
    "z" + "z" * 26,  # the largest integer: a fractional key after it, Python's
]


@pytest.mark.parametrize("last", KEYS)
@pytest.mark.parametrize("under_a_parent", [False, True], ids=["top level", "subtask"])
async def test_a_create_goes_right_after_the_last_sibling(
    http: httpx.AsyncClient, db: asyncpg.Connection, last: str, under_a_parent: bool
) -> None:
    user = f"user_{uuid.uuid4().hex[:12]}"
    parent = await create(http, user, title="Parent") if under_a_parent else None
    fields = {"parent_id": parent["id"]} if parent else {}
    sibling = await create(http, user, title="Last", **fields)
    moved = uuid.UUID(sibling["id"])
    await db.execute("UPDATE tasks SET position = $3 WHERE user_id = $1 AND id = $2", user, moved, last)
    created = await create(http, user, title="New", **fields)
    assert created["position"] == positions.between(last, None)
