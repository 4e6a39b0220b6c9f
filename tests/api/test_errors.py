"""The error envelope on every kind of failure: auth, routing, body limits, media type, database down; request ids."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import jwt
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.helpers import SECRET, auth, create_task, make_settings, make_token

LEAKS = ("Traceback", "traceback", "asyncpg", "SELECT", "psycopg", 'File "')


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """The contract's error envelope, exactly its four keys, and no internals in the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    for leak in LEAKS:
        assert leak not in response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert body["status"] == "error"
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["details"] is None or isinstance(body["details"], dict)
    return body


async def count(db: asyncpg.Connection, user: str) -> int:
    value: int = await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user)
    return value


def raw_token(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


# -- 401 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Bearer ", "Bearer", "Token abc", ""],
    ids=["missing", "basic", "bearer-space", "bearer-only", "other-scheme", "empty"],
)
async def test_missing_token_is_401_with_plain_bearer_challenge(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.post(f"/api/{user}/tasks", json={"title": "t"}, headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"
    assert await count(db, user) == 0


def bad_tokens(user: str) -> dict[str, str]:
    now = int(time.time())
    return {
        "garbage": "not-a-jwt",
        "three garbage parts": "abc.def.ghi",
        "expired": make_token(user, ttl=-3600),
        "bad signature": make_token(user, secret="another-secret-0123456789-abcdefghijklmnopqrstu"),
        "no exp": raw_token({"sub": user, "iat": now}),
        "not yet valid": make_token(user, nbf=now + 3600),
        "issued in the future": make_token(user, iat=now + 3600),
        "alg none": unsigned({"sub": user, "exp": now + 60}),
        "no sub": raw_token({"iat": now, "exp": now + 60}),
        "empty sub": raw_token({"sub": "", "iat": now, "exp": now + 60}),
        "tampered payload": tamper(make_token(user), make_token("someone_else")),
    }


def unsigned(claims: dict[str, Any]) -> str:
    """An `alg: none` token: header and payload, empty signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def tamper(token: str, donor: str) -> str:
    """`token`'s header and signature around `donor`'s payload."""
    header, _, signature = token.split(".")
    return f"{header}.{donor.split('.')[1]}.{signature}"


@pytest.mark.parametrize("kind", list(bad_tokens("anyone")))
async def test_invalid_token_is_401_with_invalid_token_challenge(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, kind: str
) -> None:
    token = bad_tokens(user)[kind]
    response = await client.post(
        f"/api/{user}/tasks", json={"title": "t"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, 401, "UNAUTHORIZED")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert await count(db, user) == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_token_whose_user_holds_a_nul_is_a_client_error_not_500(
    client: AsyncTestClient[Litestar], method: str
) -> None:
    """The user id cannot be stored (PostgreSQL text holds no NUL), so the request must fail as the client's fault."""
    body = {"title": "t"} if method == "POST" else None
    headers = {"Authorization": "Bearer " + make_token("a\x00b")}
    response = await client.request(method, "/api/a%00b/tasks", json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_bearer_scheme_is_case_insensitive(client: AsyncTestClient[Litestar], user: str, scheme: str) -> None:
    response = await client.get(f"/api/{user}/tasks", headers={"Authorization": f"{scheme} {make_token(user)}"})
    assert response.status_code == 200, response.text


async def test_expired_within_leeway_is_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    response = await client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {make_token(user, ttl=-5)}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/api/{u}/tasks", "/api/{u}/tasks/{id}", "/api/{u}/tasks/{id}/complete"])
async def test_every_api_route_needs_a_token(client: AsyncTestClient[Litestar], user: str, path: str) -> None:
    task = await create_task(client, user)
    url = path.format(u=user, id=task["id"])
    method = "PATCH" if url.endswith("/complete") else "GET"
    assert_error(await client.request(method, url), 401, "UNAUTHORIZED")


# -- routing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/api", "/api/{u}", "/api/{u}/tasks/{id}/nope", "/health/nope"])
async def test_unknown_route_is_404_not_found(client: AsyncTestClient[Litestar], user: str, path: str) -> None:
    url = path.format(u=user, id=uuid.uuid4())
    assert_error(await client.get(url, headers=auth(user)), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/health"), ("DELETE", "/health/ready"), ("DELETE", "/api/{u}/tasks"), ("POST", "/api/{u}/tasks/{id}")],
)
async def test_wrong_method_is_405(client: AsyncTestClient[Litestar], user: str, method: str, path: str) -> None:
    url = path.format(u=user, id=uuid.uuid4())
    assert_error(await client.request(method, url, headers=auth(user)), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/health", "GET, OPTIONS"),
        ("POST", "/health", "GET, OPTIONS"),
        ("DELETE", "/health/ready", "GET, OPTIONS"),
        ("PUT", "/metrics", "GET, OPTIONS"),
        ("DELETE", "/api/{u}/tasks", "GET, POST, OPTIONS"),
        ("POST", "/api/{u}/tasks/{id}", "GET, PUT, PATCH, DELETE, OPTIONS"),
        ("GET", "/api/{u}/tasks/{id}/complete", "PATCH, OPTIONS"),
        ("POST", "/schema/openapi.json", "GET, OPTIONS"),
    ],
)
async def test_405_names_the_route_methods_in_allow(
    client: AsyncTestClient[Litestar], user: str, method: str, path: str, allowed: str
) -> None:
    """RFC 9110 section 15.5.6; OPTIONS is listed because Litestar answers it on every route."""
    url = path.format(u=user, id=uuid.uuid4())
    response = await client.request(method, url, headers=auth(user))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/{u}/tasks", "GET, POST, OPTIONS"),
        ("/api/{u}/tasks/{id}", "GET, PUT, PATCH, DELETE, OPTIONS"),
        ("/api/{u}/tasks/{id}/complete", "PATCH, OPTIONS"),
        ("/health", "GET, OPTIONS"),
    ],
)
async def test_options_names_every_method_of_the_route(
    client: AsyncTestClient[Litestar], user: str, path: str, allowed: str
) -> None:
    """Litestar 2's own OPTIONS answer names only some methods of a path with several handlers."""
    response = await client.options(path.format(u=user, id=uuid.uuid4()), headers=auth(user))
    assert response.status_code == 204, response.text
    assert response.headers["allow"] == allowed


# OPTIONS is no method of the contract: 405 (or an empty CORS-style answer), 401 without a token; never a 500.
OPTIONS_ANSWERS = {200: None, 204: None, 401: "UNAUTHORIZED", 405: "METHOD_NOT_ALLOWED"}


@pytest.mark.parametrize("path", ["/api/{u}/tasks", "/api/{u}/tasks/{id}", "/api/{u}/tasks/{id}/complete", "/health"])
@pytest.mark.parametrize("authorized", [True, False], ids=["token", "no-token"])
async def test_options_is_never_a_server_error(
    client: AsyncTestClient[Litestar], user: str, path: str, authorized: bool
) -> None:
    url = path.format(u=user, id=uuid.uuid4())
    response = await client.options(url, headers=auth(user) if authorized else {})
    assert response.status_code in OPTIONS_ANSWERS, response.text
    if (code := OPTIONS_ANSWERS[response.status_code]) is not None:
        assert_error(response, response.status_code, code)


# -- body limits and media type -----------------------------------------------------------------------


async def test_body_over_64_kib_is_413_and_writes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str
) -> None:
    content = b'{"title": "big", "description": "' + b"x" * 65_536 + b'"}'
    headers = {**auth(user), "Content-Type": "application/json"}
    assert_error(await client.post(f"/api/{user}/tasks", content=content, headers=headers), 413, "PAYLOAD_TOO_LARGE")
    assert await count(db, user) == 0


async def test_body_of_exactly_64_kib_is_not_413(client: AsyncTestClient[Litestar], user: str) -> None:
    prefix, suffix = b'{"title": "big", "description": "', b'"}'
    content = prefix + b"x" * (65_536 - len(prefix) - len(suffix)) + suffix
    headers = {**auth(user), "Content-Type": "application/json"}
    response = await client.post(f"/api/{user}/tasks", content=content, headers=headers)
    assert_error(response, 422, "VALIDATION_ERROR")  # too long a description, but not too large a body


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None])
async def test_body_that_is_not_json_is_415(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, content_type: str | None
) -> None:
    headers = auth(user) if content_type is None else {**auth(user), "Content-Type": content_type}
    response = await client.post(f"/api/{user}/tasks", content=b'{"title": "t"}', headers=headers)
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await count(db, user) == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_body_that_is_not_json_is_415(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, user: str, method: str
) -> None:
    task = await create_task(client, user)
    headers = {**auth(user), "Content-Type": "text/plain"}
    response = await client.request(
        method, f"/api/{user}/tasks/{task['id']}", content=b'{"title": "x"}', headers=headers
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    complete = await client.patch(f"/api/{user}/tasks/{task['id']}/complete", content=b"{}", headers=auth(user))
    assert_error(complete, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await db.fetchval("SELECT version FROM tasks WHERE user_id = $1", user) == 1


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"]
)
async def test_json_media_type_with_parameters_is_accepted(
    client: AsyncTestClient[Litestar], user: str, content_type: str
) -> None:
    headers = {**auth(user), "Content-Type": content_type}
    response = await client.post(f"/api/{user}/tasks", content=b'{"title": "t"}', headers=headers)
    assert response.status_code == 201, response.text


# -- database unreachable -----------------------------------------------------------------------------


@pytest.fixture
async def down_client() -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nope", db_pool_timeout_seconds=0.5))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/{u}/tasks", None),
        ("POST", "/api/{u}/tasks", {"title": "t"}),
        ("GET", "/api/{u}/tasks/{id}", None),
        ("PATCH", "/api/{u}/tasks/{id}", {"title": "t"}),
        ("PATCH", "/api/{u}/tasks/{id}/complete", None),
        ("DELETE", "/api/{u}/tasks/{id}", None),
    ],
)
async def test_database_down_is_503_with_retry_after(
    down_client: AsyncTestClient[Litestar], user: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    url = path.format(u=user, id=uuid.uuid4())
    started = time.monotonic()
    response = await down_client.request(method, url, json=body, headers=auth(user))
    assert time.monotonic() - started < 5
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1


async def test_database_down_health_is_up_but_not_ready(down_client: AsyncTestClient[Litestar]) -> None:
    response = await down_client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}
    started = time.monotonic()
    response = await down_client.get("/health/ready")
    assert time.monotonic() - started < 5
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1


async def test_database_down_still_checks_auth_and_bodies_first(
    down_client: AsyncTestClient[Litestar], user: str, other_user: str
) -> None:
    assert_error(await down_client.get(f"/api/{user}/tasks"), 401, "UNAUTHORIZED")
    assert_error(await down_client.get(f"/api/{user}/tasks", headers=auth(other_user)), 403, "FORBIDDEN")
    response = await down_client.post(f"/api/{user}/tasks", json={"title": ""}, headers=auth(user))
    assert_error(response, 422, "VALIDATION_ERROR")


# -- X-Request-ID -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rid", ["abc-123._X", "a", "A" * 128, str(uuid.UUID(int=5))])
async def test_valid_request_id_is_echoed(client: AsyncTestClient[Litestar], user: str, rid: str) -> None:
    response = await client.get(f"/api/{user}/tasks", headers={**auth(user), "X-Request-ID": rid})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == rid


@pytest.mark.parametrize("rid", ["A" * 129, "has space", "a/b", "semi;colon", "caf\u00e9", ""])
async def test_invalid_request_id_is_replaced_by_a_uuid(client: AsyncTestClient[Litestar], user: str, rid: str) -> None:
    headers = [(k.encode(), v.encode()) for k, v in auth(user).items()] + [(b"x-request-id", rid.encode())]
    response = await client.get(f"/api/{user}/tasks", headers=headers)
    assert response.status_code == 200, response.text
    replaced = response.headers["x-request-id"]
    assert replaced != rid
    assert str(uuid.UUID(replaced)) == replaced


async def test_request_id_is_generated_when_absent(client: AsyncTestClient[Litestar]) -> None:
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert str(uuid.UUID(first)) == first
    assert first != second


@pytest.mark.parametrize(
    ("method", "path", "authorized", "status"),
    [
        ("GET", "/nope", True, 404),
        ("POST", "/health", False, 405),
        ("GET", "/api/{u}/tasks", False, 401),
        ("GET", "/api/{u}/tasks/{id}", True, 404),
        ("GET", "/api/someone_else/tasks", True, 403),
        ("GET", "/api/{u}/tasks?limit=0", True, 422),
    ],
)
async def test_request_id_is_on_error_responses_too(
    client: AsyncTestClient[Litestar], user: str, method: str, path: str, authorized: bool, status: int
) -> None:
    headers = {"X-Request-ID": "err-req.1", **(auth(user) if authorized else {})}
    response = await client.request(method, path.format(u=user, id=uuid.uuid4()), headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == "err-req.1"
    for leak in LEAKS:
        assert leak not in response.text
