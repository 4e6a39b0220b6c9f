"""JWKS-signed tokens through the HTTP API: accepted end to end, and 503 (not 401) when the key set is unreachable."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.config import Settings
from tests.helpers import make_settings
from tests.jwks_server import JwksServer, new_key, serve_jwks

KEY = new_key("EdDSA", "kid-api")


@pytest.fixture
async def jwks_client(settings: Settings) -> AsyncIterator[tuple[AsyncTestClient[Litestar], JwksServer]]:
    with serve_jwks([KEY]) as jwks:
        app = create_app(
            make_settings(
                settings.database_url or "", jwt_secret=None, jwt_jwks_url=jwks.url, jwks_min_refetch_seconds=0
            )
        )
        async with AsyncTestClient(app) as client:
            yield client, jwks


async def jwks_fetches(client: AsyncTestClient[Litestar]) -> dict[str, float]:
    """tasks_jwks_fetches_total by outcome, as /metrics reports it."""
    text = (await client.get("/metrics")).text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tasks_jwks_fetches_total"
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(user: str) -> dict[str, object]:
    now = int(time.time())
    return {"sub": user, "iat": now, "exp": now + 900}


async def test_eddsa_token_creates_and_lists(
    jwks_client: tuple[AsyncTestClient[Litestar], JwksServer], user: str
) -> None:
    client, _ = jwks_client
    token = KEY.sign(claims(user))
    created = await client.post(f"/api/{user}/tasks", json={"title": "signed by Better Auth"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    listed = await client.get(f"/api/{user}/tasks", headers=bearer(token))
    assert [t["title"] for t in listed.json()["data"]] == ["signed by Better Auth"]


async def test_unknown_kid_while_jwks_is_down_is_503(
    jwks_client: tuple[AsyncTestClient[Litestar], JwksServer], user: str
) -> None:
    client, jwks = jwks_client
    before = await jwks_fetches(client)
    assert before["ok"] >= 1  # the fetch at start-up
    jwks.down = True
    response = await client.get(f"/api/{user}/tasks", headers=bearer(new_key("EdDSA", "kid-new").sign(claims(user))))
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"].isdigit()
    after = await jwks_fetches(client)
    assert (after["ok"] - before["ok"], after["failed"] - before["failed"]) == (0, 1)
    known = await client.get(f"/api/{user}/tasks", headers=bearer(KEY.sign(claims(user))))
    assert known.status_code == 200


async def test_unknown_kid_while_jwks_is_up_is_401(
    jwks_client: tuple[AsyncTestClient[Litestar], JwksServer], user: str
) -> None:
    client, _ = jwks_client
    response = await client.get(f"/api/{user}/tasks", headers=bearer(new_key("EdDSA", "kid-x").sign(claims(user))))
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert "kid" in response.json()["message"]
