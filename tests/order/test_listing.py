"""The list route's parent_id filter and position sort: filters, order, paging, cursors bound to them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.helpers import auth
from tests.order.helpers import create, field_errors, move


def fresh_user() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


async def listing(http: httpx.AsyncClient, user: str, expect: int = 200, **params: Any) -> dict[str, Any]:
    response = await http.get(f"/api/{user}/tasks", params=params, headers=auth(user))
    assert response.status_code == expect, response.text
    page: dict[str, Any] = response.json()
    return page


async def walk(http: httpx.AsyncClient, user: str, **params: Any) -> list[str]:
    titles: list[str] = []
    cursor = None
    for _ in range(100):
        page = await listing(http, user, **params, **({"cursor": cursor} if cursor else {}))
        titles += [task["title"] for task in page["data"]]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return titles
    raise AssertionError("the walk did not end")


async def test_parent_filters_and_position_order(http: httpx.AsyncClient) -> None:
    user, other = fresh_user(), fresh_user()
    parent = await create(http, user, title="P")
    subs = [await create(http, user, title=f"S{i}", parent_id=parent["id"]) for i in range(5)]
    tops = [await create(http, user, title=f"T{i}") for i in range(4)]
    await move(http, user, subs[4]["id"], after_id=None)
    await move(http, user, tops[0]["id"], after_id=tops[3]["id"])
    await create(http, other, title="theirs")

    assert await walk(http, user, parent_id=parent["id"], sort="position", limit=2) == ["S4", "S0", "S1", "S2", "S3"]
    assert await walk(http, user, parent_id=parent["id"], sort="-position", limit=3) == ["S3", "S2", "S1", "S0", "S4"]
    assert await walk(http, user, parent_id="none", sort="position", limit=2) == ["P", "T1", "T2", "T3", "T0"]
    assert (await listing(http, user, parent_id="none"))["meta"]["total"] == 5
    assert (await listing(http, user, parent_id=parent["id"]))["meta"]["total"] == 5
    assert len(await walk(http, user, sort="position")) == 10  # every live task, siblings or not
    # another user's task, or an unknown one, has no subtasks for this user: an empty list, nothing leaks
    assert (await listing(http, other, parent_id=parent["id"]))["data"] == []
    assert (await listing(http, user, parent_id=str(uuid.uuid4())))["meta"]["total"] == 0


async def test_position_ties_are_broken_by_id(http: httpx.AsyncClient, db: Any) -> None:
    user = fresh_user()
    tasks = [await create(http, user, title=f"T{i}") for i in range(4)]
    await db.execute("UPDATE tasks SET position = 'a5' WHERE user_id = $1", user)  # as a write outside the API could
    ids = sorted(task["id"] for task in tasks)
    forward = [task["id"] for task in (await listing(http, user, sort="position"))["data"]]
    backward = [task["id"] for task in (await listing(http, user, sort="-position"))["data"]]
    assert forward == ids and backward == ids[::-1]
    # and a move into such a tie re-spaces the list instead of failing
    moved = (await move(http, user, ids[3], after_id=ids[0]))["data"]
    assert [task["id"] for task in (await listing(http, user, sort="position"))["data"]] == [
        ids[0],
        ids[3],
        ids[1],
        ids[2],
    ]
    assert moved["position"] == "a1"


BAD_PARENTS = ["", "None", "null", "nope", "3f0c9a8e6f3e4a4b9a525b1c0f7e2d11", "{" + "0" * 32 + "}"]


@pytest.mark.parametrize("value", BAD_PARENTS)
async def test_a_bad_parent_id_is_422_naming_it(http: httpx.AsyncClient, value: str) -> None:
    assert field_errors(await listing(http, fresh_user(), 422, parent_id=value)) == ["parent_id"]


async def test_a_cursor_is_bound_to_the_parent_filter(http: httpx.AsyncClient) -> None:
    user = fresh_user()
    parent = await create(http, user, title="P")
    for i in range(3):
        await create(http, user, title=f"S{i}", parent_id=parent["id"])
    page = await listing(http, user, parent_id=parent["id"], sort="position", limit=1)
    cursor = page["meta"]["next_cursor"]
    assert cursor is not None
    for params in ({"parent_id": "none"}, {}, {"parent_id": str(uuid.uuid4())}):
        answer = await listing(http, user, 422, sort="position", limit=1, cursor=cursor, **params)
        assert field_errors(answer) == ["cursor"]
    # a list cursor made without a parent filter is still valid without one
    plain = (await listing(http, user, limit=1))["meta"]["next_cursor"]
    assert len((await listing(http, user, limit=1, cursor=plain))["data"]) == 1


async def test_the_openapi_document_describes_the_new_parameters(http: httpx.AsyncClient) -> None:
    document = (await http.get("/schema/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]}
    parent = parameters["parent_id"]["schema"]
    assert parent["oneOf"] == [{"type": "string", "format": "uuid"}, {"type": "string", "enum": ["none"]}]
    assert {"position", "-position"} <= set(parameters["sort"]["schema"]["enum"])
