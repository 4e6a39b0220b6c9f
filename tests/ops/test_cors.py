"""CORS for the browser front end: preflights need no token, one origin is allowed, credentials never are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.helpers import auth, create_task, make_settings

ORIGIN = "https://app.example.com"
OTHER = "https://evil.example.com"


@pytest.fixture(scope="module")
async def cors_client(migrated: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings(migrated, cors_origins=(ORIGIN,)))
    async with AsyncTestClient(app) as client:
        yield client


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "Authorization, If-Match, Idempotency-Key",
    }


async def test_preflight_from_the_allowed_origin(cors_client: AsyncTestClient[Litestar], user: str) -> None:
    task = await create_task(cors_client, user)
    response = await cors_client.options(f"/api/{user}/tasks/{task['id']}", headers=preflight_headers(ORIGIN))
    assert 200 <= response.status_code < 300, (response.status_code, response.text)
    assert response.headers.get("access-control-allow-origin") == ORIGIN
    assert int(response.headers["access-control-max-age"]) > 0
    methods = {m.strip().upper() for m in response.headers.get("access-control-allow-methods", "").split(",")}
    assert "PATCH" in methods, methods
    allowed = {h.strip().lower() for h in response.headers.get("access-control-allow-headers", "").split(",")}
    assert {"authorization", "if-match", "idempotency-key"} <= allowed, allowed
    assert response.headers.get("access-control-allow-credentials", "").lower() != "true"
    assert "origin" in response.headers.get("vary", "").lower()


async def test_preflight_needs_no_token_even_on_a_path_of_another_user(
    cors_client: AsyncTestClient[Litestar],
) -> None:
    response = await cors_client.options("/api/nobody/tasks", headers=preflight_headers(ORIGIN))
    assert 200 <= response.status_code < 300, (response.status_code, response.text)
    assert response.headers.get("access-control-allow-origin") == ORIGIN
    assert "www-authenticate" not in response.headers


async def test_get_from_the_allowed_origin_exposes_the_headers_a_client_reads(
    cors_client: AsyncTestClient[Litestar], user: str
) -> None:
    task = await create_task(cors_client, user)
    response = await cors_client.get(f"/api/{user}/tasks/{task['id']}", headers={"Origin": ORIGIN, **auth(user)})
    assert response.status_code == 200, response.text
    assert response.headers.get("access-control-allow-origin") == ORIGIN
    assert response.headers.get("access-control-allow-credentials", "").lower() != "true"
    exposed = {h.strip().lower() for h in response.headers.get("access-control-expose-headers", "").split(",")}
    assert {"etag", "location", "x-request-id"} <= exposed, exposed


async def test_another_origin_is_not_allowed(cors_client: AsyncTestClient[Litestar], user: str) -> None:
    response = await cors_client.get(f"/api/{user}/tasks", headers={"Origin": OTHER, **auth(user)})
    assert response.status_code == 200, response.text  # CORS is the browser's business; the server just won't allow
    assert "access-control-allow-origin" not in response.headers
    preflight = await cors_client.options(f"/api/{user}/tasks", headers=preflight_headers(OTHER))
    assert preflight.headers.get("access-control-allow-origin") is None
    assert not 200 <= preflight.status_code < 300, preflight.status_code


async def test_without_cors_origins_no_cors_headers(client: AsyncTestClient[Litestar], user: str) -> None:
    response = await client.get(f"/api/{user}/tasks", headers={"Origin": ORIGIN, **auth(user)})
    assert response.status_code == 200, response.text
    assert "access-control-allow-origin" not in response.headers
