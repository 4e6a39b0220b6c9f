"""Every SQL file against the migrated schema (sqlc's db-prepare): it prepares, binds $1 as tasks.user_id,
returns the Task fields in order (or the columns the gateway reads by position), and list can use an index
rather than scanning the table."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest

from service.feed import FeedRead
from service.schemas import CreateBinds, Task, TaskChange
from service.statements import Statement, load
from service.task_json import PageText, TaskText
from tests.sql.test_rules import renderings

STATEMENTS: Mapping[str, Statement] = load()
TASK_FIELDS = [field.name for field in msgspec.structs.fields(Task)]

# Statements whose row leads with other columns, then the task (the gateway builds a Task from the rest by
# position), and the reads that return the task as JSON, into the named tuple the gateway reads them as.
LEADING_COLUMNS = {
    "tasks/create": ("outcome", "last_position", "change_seq"),
    "tasks/update": ("outcome", "change_seq"),
    "tasks/find_idempotent": ("request_hash",),
}
RETURNS_JSON: dict[str, tuple[str, ...]] = {
    "tasks/get": TaskText._fields,
    "tasks/list": PageText._fields,
    "sync/changes": FeedRead._fields,
}
INDEXED = sorted(name for name in STATEMENTS if name.rsplit("/", 1)[-1] == "list")
TENANT = sorted(name for name in STATEMENTS if not name.startswith("system/"))

# Values bound when explaining: by name, then (for a keyset position after the first page) by type; every other
# parameter is null. The plan must reach tasks through an index, so a plan that folds to nothing fails too.
EXPLAIN_VALUES: dict[str, Any] = {"user_id": "user_explain", "limit": 100}
KEYSET_PARAMS = ("after_key", "after_id")
# A value for each filter a rendering has (a given filter with a null value would fold the plan away).
GIVEN_VALUES: dict[str, Any] = {
    "statuses": ["pending"],
    "priorities": ["high"],
    "tags": ["work"],
    "q": "report",
    "due_after": datetime(2026, 1, 1, tzinfo=UTC),
    "due_before": datetime(2027, 1, 1, tzinfo=UTC),
    "parent_id": uuid.UUID(int=7),
    "top_level": True,
}
SAMPLES: dict[str, Any] = {
    "text": "m",
    "int2": 1,
    "int4": 1,
    "int8": 1,
    "timestamptz": datetime(2026, 3, 1, tzinfo=UTC),
    "uuid": uuid.UUID(int=1),
}
_INDEX_ON_TASKS = re.compile(r"Index (Only )?Scan( Backward)? using \w+ on tasks\b|Bitmap Heap Scan on tasks\b")


@pytest.fixture(scope="module")
async def user_id_type(db: asyncpg.Connection) -> int:
    oid = await db.fetchval(
        "SELECT atttypid FROM pg_attribute WHERE attrelid = 'tasks'::regclass AND attname = 'user_id'"
    )
    assert oid is not None
    assert await db.fetchval("SELECT $1::oid::regtype::text", oid) == "text"
    return int(oid)


def test_the_statement_groups_exist() -> None:
    assert {*RETURNS_JSON, *LEADING_COLUMNS} <= set(STATEMENTS)
    assert {"tasks/list"} <= set(INDEXED)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
async def test_statement_prepares(db: asyncpg.Connection, name: str) -> None:
    statement = STATEMENTS[name]
    for text in renderings(statement).values():
        prepared = await db.prepare(text)
        assert len(prepared.get_parameters()) == len(statement.params)


@pytest.mark.parametrize("name", TENANT)
async def test_first_parameter_has_the_type_of_tasks_user_id(
    db: asyncpg.Connection, user_id_type: int, name: str
) -> None:
    for text in renderings(STATEMENTS[name]).values():
        parameters = (await db.prepare(text)).get_parameters()
        assert parameters, f"{name} takes no parameters"
        assert parameters[0].oid == user_id_type, f"$1 of {name} is {parameters[0].name}, not text"


async def _columns(db: asyncpg.Connection, name: str) -> list[list[str]]:
    """The column names of every rendering of the statement."""
    columns = []
    for text in renderings(STATEMENTS[name]).values():
        prepared = await db.prepare(text)
        columns.append([attribute.name for attribute in prepared.get_attributes()])
    return columns


@pytest.mark.parametrize("name", sorted(RETURNS_JSON))
async def test_json_read_returns_the_columns_of_its_named_tuple(db: asyncpg.Connection, name: str) -> None:
    for names in await _columns(db, name):
        assert tuple(names) == RETURNS_JSON[name]


@pytest.mark.parametrize("name", sorted(LEADING_COLUMNS))
async def test_statement_returns_its_leading_columns_then_the_task_fields(db: asyncpg.Connection, name: str) -> None:
    for names in await _columns(db, name):
        assert names == [*LEADING_COLUMNS[name], *TASK_FIELDS]


def test_the_change_binds_follow_the_update_statement() -> None:
    """TaskChange is bound positionally after user_id, task_id and expected_version; the position last."""
    params = ("user_id", "task_id", "expected_version", *TaskChange._fields, "position")
    assert STATEMENTS["tasks/update"].params == params
    assert STATEMENTS["tasks/create"].params[1:8] == CreateBinds._fields


def _given(key: str, param: str) -> bool:
    """Whether the rendering labelled `key` has the filter whose parameter is `param` (so it needs a value)."""
    label = key.rsplit("[", 1)[-1].rstrip("]") if "[" in key else key
    return param in GIVEN_VALUES and label in ("all filters", param)


@pytest.mark.parametrize("name", INDEXED)
async def test_list_can_use_an_index(db: asyncpg.Connection, name: str) -> None:
    statement = STATEMENTS[name]
    scanning: dict[str, str] = {}
    for key, text in renderings(statement).items():
        types = [parameter.name for parameter in (await db.prepare(text)).get_parameters()]
        values = [
            GIVEN_VALUES[param]
            if _given(key, param)
            else SAMPLES[kind]
            if param in KEYSET_PARAMS and " first" not in key
            else EXPLAIN_VALUES.get(param)
            for param, kind in zip(statement.params, types, strict=True)
        ]
        async with db.transaction():
            await db.execute("SET LOCAL enable_seqscan = off")
            rows = await db.fetch("EXPLAIN " + text, *values)
        plan = "\n".join(row[0] for row in rows)
        if "Seq Scan on tasks" in plan or not _INDEX_ON_TASKS.search(plan):
            scanning[key or name] = plan
    assert scanning == {}
