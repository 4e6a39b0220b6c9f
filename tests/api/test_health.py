"""Liveness, readiness and the OpenAPI document: no auth, and the document covers the whole contract."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

CONTRACT: dict[str, set[str]] = {
    "/api/{user_id}/tasks": {"get", "post"},
    "/api/{user_id}/tasks/{task_id}": {"get", "put", "patch", "delete"},
    "/api/{user_id}/tasks/{task_id}/complete": {"patch"},
    "/health": {"get"},
    "/health/ready": {"get"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def openapi(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def has_example(response: dict[str, Any]) -> bool:
    for media in response.get("content", {}).values():
        if media.get("example") is not None or media.get("examples"):
            return True
    return False


async def test_health_is_ok_without_auth(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


async def test_ready_is_ok_without_auth(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_openapi_is_3_1(client: AsyncTestClient[Litestar]) -> None:
    document = await openapi(client)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"]


async def test_openapi_has_every_route_with_its_methods(client: AsyncTestClient[Litestar]) -> None:
    paths = (await openapi(client))["paths"]
    for path, methods in CONTRACT.items():
        assert path in paths, f"{path} missing from {sorted(paths)}"
        assert {m for m in paths[path] if m in HTTP_METHODS} >= methods, path


def api_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


async def test_every_api_operation_has_a_response_with_an_example(client: AsyncTestClient[Litestar]) -> None:
    operations = api_operations(await openapi(client))
    assert len(operations) == 11
    for path, method, operation in operations:
        responses = operation["responses"].values()
        assert any(has_example(r) for r in responses), f"{method.upper()} {path} has no example"


async def test_every_api_operation_documents_its_errors(client: AsyncTestClient[Litestar]) -> None:
    for path, method, operation in api_operations(await openapi(client)):
        codes = set(operation["responses"])
        assert {"401", "403"} <= codes, f"{method.upper()} {path} documents {sorted(codes)}"
        if "{task_id}" in path:
            assert "404" in codes, f"{method.upper()} {path} documents {sorted(codes)}"


async def test_openapi_declares_bearer_auth(client: AsyncTestClient[Litestar]) -> None:
    document = await openapi(client)
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme", "").lower() == "bearer" for s in schemes.values())


async def test_interactive_docs_are_served(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
