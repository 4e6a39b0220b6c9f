"""Small clients of the subtask and order routes, each asserting the status it expects."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import auth


async def create(http: httpx.AsyncClient, user: str, **fields: Any) -> dict[str, Any]:
    response = await http.post(f"/api/{user}/tasks", json={"title": "A task", **fields}, headers=auth(user))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


async def move(
    http: httpx.AsyncClient,
    user: str,
    task_id: str,
    expect: int = 200,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    response = await http.post(
        f"/api/{user}/tasks/{task_id}/move", json=body, headers={**auth(user), **(headers or {})}
    )
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    if expect == 200:
        assert response.headers["etag"] == f'"{answer["data"]["version"]}"'
    return answer


async def write(http: httpx.AsyncClient, method: str, user: str, path: str, body: Any = None, expect: int = 200) -> Any:
    response = await http.request(method, f"/api/{user}/tasks{path}", json=body, headers=auth(user))
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


async def get(http: httpx.AsyncClient, user: str, task_id: str) -> dict[str, Any]:
    response = await http.get(f"/api/{user}/tasks/{task_id}", headers=auth(user))
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


async def siblings(http: httpx.AsyncClient, user: str, parent: str | None = None) -> list[dict[str, Any]]:
    """The live tasks under `parent` (top level when None), in position order, read back from the database
    through the API's task reads, sorted as a client sorts: by position, then id."""
    tasks: list[dict[str, Any]] = []
    response = await http.get(f"/api/{user}/tasks/changes", headers=auth(user))
    assert response.status_code == 200, response.text
    page = response.json()
    assert not page["meta"]["has_more"]
    tasks = [task for task in page["data"]["changed"] if task["parent_id"] == parent]
    return sorted(tasks, key=lambda task: (task["position"].encode(), task["id"]))


def field_errors(answer: dict[str, Any]) -> list[str]:
    assert answer["code"] == "VALIDATION_ERROR", answer
    return [error["field"] for error in answer["details"]["errors"]]
