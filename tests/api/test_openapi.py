"""The OpenAPI document says exactly what the service does: every example valid against its own schema,
every status and header a route answers, the body rules, and the project's version."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.openapi import ROUTES
from tests.api.test_health import openapi
from tests.helpers import auth

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
METHODS = ("get", "put", "post", "patch", "delete")


def examples_with_schemas(document: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every example anywhere in the document, with the schema it illustrates: (where, value, schema)."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield from _operation_examples(f"{method.upper()} {path}", operation)
    for name, schema in document["components"]["schemas"].items():
        for prop, rules in schema.get("properties", {}).items():
            for value in rules.get("examples", ()):
                yield f"components {name}.{prop}", value, rules


def _operation_examples(where: str, operation: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    for parameter in operation.get("parameters", ()):
        for value in parameter["schema"].get("examples", ()):
            yield f"{where} parameter {parameter['name']}", value, parameter["schema"]
    contents = [("request", operation.get("requestBody", {}).get("content", {}))]
    contents += [(f"response {status}", r.get("content", {})) for status, r in operation["responses"].items()]
    for label, content in contents:
        for media_type, media in content.items():
            if media_type == "text/event-stream":  # the schema is one event's; the example a whole stream
                for event in sse_events(media["example"]):
                    yield f"{where} {label} {media_type} event", event, media["schema"]
            elif "example" in media:
                yield f"{where} {label} {media_type}", media["example"], media["schema"]
            for name, example in media.get("examples", {}).items():
                yield f"{where} {label} {media_type} {name}", example["value"], media["schema"]


def sse_events(stream: str) -> list[dict[str, str]]:
    """The events of a text/event-stream that carry data, as field -> value (comments and retry: dropped)."""
    events = []
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "data" in fields:
            events.append({k: v for k, v in fields.items() if k != "retry"})
    return events


def validator(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) resolving `$ref`s into the components."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]}, validate_formats=True)


async def test_every_example_is_valid_against_its_own_schema(client: AsyncTestClient[Litestar]) -> None:
    document = await openapi(client)
    found = list(examples_with_schemas(document))
    assert len(found) > 50  # every route, request bodies and error responses included
    invalid = [
        f"{where}: {error.message}"
        for where, value, schema in found
        for error in validator(schema, document).iter_errors(value)
    ]
    assert not invalid, "\n".join(invalid)


async def test_a_wrong_example_would_be_caught(client: AsyncTestClient[Litestar]) -> None:
    document = await openapi(client)
    task = {"$ref": "#/components/schemas/Task"}
    example = document["paths"]["/api/{user_id}/tasks"]["post"]["responses"]["201"]["content"]["application/json"]
    value = next(iter(example["examples"].values()))["value"]["data"]
    assert validator(task, document).is_valid(value)
    assert not validator(task, document).is_valid({k: v for k, v in value.items() if k != "completed_at"})


async def test_every_operation_says_what_it_answers(client: AsyncTestClient[Litestar]) -> None:
    """A new route needs its entry in service.openapi.ROUTES: its statuses, headers and examples."""
    for path, item in (await openapi(client))["paths"].items():
        for method in item.keys() & set(METHODS):
            assert (path, method) in ROUTES, f"{method.upper()} {path} is not in service.openapi.ROUTES"


async def test_version_is_the_projects(client: AsyncTestClient[Litestar]) -> None:
    with PYPROJECT.open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    assert (await openapi(client))["info"]["version"] == version


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/{user_id}/tasks", "post", {"201", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503"}),
        ("/api/{user_id}/tasks/{task_id}", "get", {"200", "304", "401", "403", "404", "429", "500", "503"}),
        ("/api/{user_id}/tasks/{task_id}", "patch", {"200", "404", "412", "413", "415", "422"}),
        ("/api/{user_id}/tasks/{task_id}", "delete", {"204", "404", "412"}),
        ("/health/ready", "get", {"200", "503"}),
    ],
)
async def test_statuses_a_route_answers_are_documented(
    client: AsyncTestClient[Litestar], path: str, method: str, statuses: set[str]
) -> None:
    responses = (await openapi(client))["paths"][path][method]["responses"]
    assert statuses <= set(responses), sorted(responses)
    assert "400" not in responses  # the service never answers 400: malformed requests are 422


async def test_every_error_response_is_the_envelope(client: AsyncTestClient[Litestar]) -> None:
    document = await openapi(client)
    for item in document["paths"].values():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items() if method in METHODS else ():
                if status >= "400":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, status)


async def test_response_headers_are_documented(client: AsyncTestClient[Litestar]) -> None:
    paths = (await openapi(client))["paths"]
    created = paths["/api/{user_id}/tasks"]["post"]["responses"]
    assert {"Location", "ETag", "X-Request-ID"} <= set(created["201"]["headers"])
    assert "WWW-Authenticate" in created["401"]["headers"]
    assert "Retry-After" in created["429"]["headers"]
    assert "Retry-After" in created["503"]["headers"]
    assert "ETag" in paths["/api/{user_id}/tasks/{task_id}"]["get"]["responses"]["304"]["headers"]
    assert "ETag" in paths["/api/{user_id}/tasks/{task_id}"]["put"]["responses"]["412"]["headers"]


async def test_metrics_is_documented_as_prometheus_text(client: AsyncTestClient[Litestar]) -> None:
    ok = (await openapi(client))["paths"]["/metrics"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/plain"]
    assert ok["content"]["text/plain"]["example"].startswith("# HELP")
    scraped = await client.get("/metrics")
    assert scraped.headers["content-type"].startswith("text/plain")


async def test_body_rules(client: AsyncTestClient[Litestar]) -> None:
    document = await openapi(client)
    operations = document["paths"]["/api/{user_id}/tasks/{task_id}"]
    schemas = document["components"]["schemas"]

    def body(operation: dict[str, Any]) -> dict[str, Any]:
        reference: str = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema: dict[str, Any] = schemas[reference.rsplit("/", 1)[1]]
        return schema

    for operation in (operations["put"], operations["patch"], document["paths"]["/api/{user_id}/tasks"]["post"]):
        assert body(operation)["additionalProperties"] is False
        assert operation["requestBody"]["content"]["application/json"]["examples"]
    assert body(operations["patch"])["minProperties"] == 1
    complete = document["paths"]["/api/{user_id}/tasks/{task_id}/complete"]["patch"]["requestBody"]
    assert complete["required"] is False
    assert "$ref" in complete["content"]["application/json"]["schema"]  # an object, never null


async def test_the_documented_request_examples_are_accepted(client: AsyncTestClient[Litestar], user: str) -> None:
    document = await openapi(client)
    post = document["paths"]["/api/{user_id}/tasks"]["post"]["requestBody"]["content"]["application/json"]
    for example in post["examples"].values():
        response = await client.post(f"/api/{user}/tasks", json=example["value"], headers=auth(user))
        assert response.status_code == 201, response.text
    task_id = response.json()["data"]["id"]
    for method, path in (("put", "{task_id}"), ("patch", "{task_id}"), ("patch", "{task_id}/complete")):
        operation = document["paths"][f"/api/{{user_id}}/tasks/{path}"][method]
        for example in operation["requestBody"]["content"]["application/json"]["examples"].values():
            url = f"/api/{user}/tasks/{path.format(task_id=task_id)}"
            response = await client.request(method.upper(), url, json=example["value"], headers=auth(user))
            assert response.status_code == 200, (method, path, response.text)


async def test_recurrence_rules(client: AsyncTestClient[Litestar], user: str) -> None:
    """`recurrence: null` (stop repeating) is valid, as the service says; an unknown key in it is not."""
    document = await openapi(client)
    post = document["paths"]["/api/{user_id}/tasks"]["post"]["requestBody"]["content"]["application/json"]
    schema = validator(post["schema"], document)
    due = "2026-03-01T17:00:00Z"
    plain = {"title": "t", "due_date": due, "recurrence": None}
    stray = {**plain, "recurrence": {"rule": "FREQ=DAILY", "every": 2}}
    assert schema.is_valid(plain) and not schema.is_valid(stray)
    accepted = await client.post(f"/api/{user}/tasks", json=plain, headers=auth(user))
    refused = await client.post(f"/api/{user}/tasks", json=stray, headers=auth(user))
    assert (accepted.status_code, refused.status_code) == (201, 422), refused.text
