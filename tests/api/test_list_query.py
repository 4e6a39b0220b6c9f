"""The list query's parameters: decoded as strict UTF-8, and documented in OpenAPI exactly as they are parsed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.errors import ValidationFailed
from service.listing import parse_list_query
from service.openapi import SPACE, TIMESTAMP, trimmed
from service.schemas import MAX_TAG
from tests.helpers import auth

Client = AsyncTestClient[Litestar]
SORTS = [
    f"{sign}{key}"
    for key in ("created_at", "updated_at", "due_date", "priority", "title", "position")
    for sign in ("", "-")
]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=%FF", "q"),  # not UTF-8 at all
        ("q=caf%E9", "q"),  # Latin-1
        ("tag=%ED%A0%80", "tag"),  # an encoded surrogate
        ("q=a%C0%AFb", "q"),  # an overlong "/"
        ("status=pending&q=%FF&tag=ok", "q"),
    ],
)
async def test_a_parameter_that_is_not_utf8_is_named(client: Client, user: str, query: str, field: str) -> None:
    response = await client.get(f"/api/{user}/tasks?{query}", headers=auth(user))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"]["errors"] == [{"field": field, "message": "must be valid UTF-8 text"}]


async def test_utf8_and_plus_signs_decode_as_before(client: Client, user: str) -> None:
    for query in ("q=caf%C3%A9", "q=two+words", "tag=%F0%9F%93%8C"):
        response = await client.get(f"/api/{user}/tasks?{query}", headers=auth(user))
        assert response.status_code == 200, response.text


async def list_parameters(client: Client) -> dict[str, dict[str, Any]]:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/{user_id}/tasks"]["get"]
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


async def test_openapi_documents_exactly_the_parameters_the_parser_takes(client: Client) -> None:
    params = await list_parameters(client)
    assert {name: p["schema"] for name, p in params.items()} == {
        "status": {
            "type": "string",
            "pattern": "^ *(?:pending|in_progress|completed) *(?:, *(?:pending|in_progress|completed) *)*$",
            "examples": ["pending,in_progress"],
        },
        "priority": {
            "type": "string",
            "pattern": "^ *(?:low|medium|high) *(?:, *(?:low|medium|high) *)*$",
            "examples": ["low,medium"],
        },
        "completed": {"type": "boolean"},
        "tag": {"type": "array", "items": {"type": "string", "pattern": trimmed(MAX_TAG)}},  # as a body's tags
        "q": {"type": "string", "maxLength": 200, "pattern": rf"^[^\x00]*[^\x00{SPACE}][^\x00]*$"},  # not blank
        "due_after": {**TIMESTAMP, "examples": ["2026-03-01T00:00:00Z"]},  # as a body's due_date
        "due_before": {**TIMESTAMP, "examples": ["2026-03-01T00:00:00Z"]},
        "parent_id": {
            "oneOf": [{"type": "string", "format": "uuid"}, {"type": "string", "enum": ["none"]}],
            "examples": ["none"],
        },
        "sort": {"type": "string", "enum": SORTS, "default": "-created_at"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "cursor": {"type": "string", "minLength": 1, "maxLength": 1024},
    }
    assert all(p["required"] is False and p["description"] for p in params.values())


@pytest.mark.parametrize("name", ["status", "priority"])
@pytest.mark.parametrize(
    "value",
    ["pending", "low", "pending,completed", "high, low", "pending,", ",low", "PENDING", "done", "", "low,,high"],
)
async def test_the_documented_pattern_accepts_what_the_parser_accepts(client: Client, name: str, value: str) -> None:
    pattern = (await list_parameters(client))[name]["schema"]["pattern"]
    try:
        parse_list_query(f"{name}={value}".replace(" ", "%20").encode())
        accepted = True
    except ValidationFailed:
        accepted = False
    assert (re.search(pattern, value) is not None) == accepted
