"""docs/api.md documents every operation of the OpenAPI document, each under a heading `METHOD /path`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.app import create_app
from tests.helpers import make_settings

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# A route heading: "### `GET /api/{user_id}/tasks`".
HEADING = re.compile(r"^#+ `([A-Z]+) (/[^`]*)`\s*$", re.MULTILINE)
# Served outside the OpenAPI document (it is the document, and the page that renders it).
SERVED_BESIDE_THE_DOCUMENT = frozenset({"GET /schema/openapi.json", "GET /schema"})


def operations() -> set[str]:
    """Every `METHOD /path` of the app's OpenAPI document. Building it needs no database."""
    app = create_app(make_settings("postgresql://unused@127.0.0.1/unused"))
    document = app.openapi_schema.to_schema()
    return {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item if method in METHODS
    }


def documented(text: str) -> set[str]:
    return {f"{method} {path}" for method, path in HEADING.findall(text)}


def missing(text: str, wanted: set[str]) -> list[str]:
    return sorted(wanted - documented(text))


@pytest.fixture(scope="module")
def wanted() -> set[str]:
    return operations()


@pytest.fixture(scope="module")
def doc() -> str:
    return API_DOC.read_text(encoding="utf-8")


def test_every_operation_of_the_openapi_document_has_a_section(wanted: set[str], doc: str) -> None:
    assert wanted, "the OpenAPI document lists no operation"
    assert missing(doc, wanted) == [], "docs/api.md lacks a '### `METHOD /path`' section for these"


def test_every_route_section_names_a_route_that_exists(wanted: set[str], doc: str) -> None:
    """A section for a route the service does not serve (a planned one, a renamed one) misleads clients."""
    assert documented(doc) - wanted - SERVED_BESIDE_THE_DOCUMENT == set()


def test_removing_a_route_section_is_caught(wanted: set[str], doc: str) -> None:
    for operation in sorted(wanted):
        heading = f"`{operation}`"
        lines = [line for line in doc.splitlines() if not (line.startswith("#") and line.rstrip().endswith(heading))]
        assert missing("\n".join(lines), wanted) == [operation]


def test_a_mention_outside_a_heading_does_not_count(wanted: set[str]) -> None:
    text = "\n".join(f"See `{operation}` somewhere in a paragraph." for operation in wanted)
    assert missing(text, wanted) == sorted(wanted)
