"""The interactive docs under /schema need nothing but the service; unknown paths there answer the envelope."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.test_errors import assert_error

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']""")
MEDIA_TYPES = {".js": ("application/javascript", "text/javascript"), ".css": ("text/css",), ".png": ("image/png",)}


async def test_the_docs_page_loads_only_files_the_service_serves(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    references = _REFERENCE.findall(page.text)
    kinds = {reference.rsplit(".", 1)[-1] for reference in references}
    assert {"js", "css", "png"} <= kinds, references  # the UI, its preset, its style, the icon
    for reference in references:
        assert reference.startswith("/schema/") and "//" not in reference, reference
        asset = await client.get(reference)
        assert asset.status_code == 200, (reference, asset.status_code)
        suffix = "." + reference.rsplit(".", 1)[-1]
        assert asset.headers["content-type"].split(";")[0] in MEDIA_TYPES[suffix], (reference, asset.headers)
        assert len(asset.content) > 0
        assert "immutable" in asset.headers["cache-control"]
    assert "cdn" not in page.text.lower()


async def test_the_docs_page_still_embeds_the_openapi_document(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/schema")
    assert "SwaggerUIBundle(" in page.text and '"openapi":"3.1' in page.text.replace(" ", "")
    document = await client.get("/schema/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "path",
    [
        "/schema/redoc",
        "/schema/swagger",
        "/schema/rapidoc",
        "/schema/nope",
        "/schema/openapi.yaml",
        "/schema/nope.json",
        "/schema/swagger-ui-0.0.0/swagger-ui.css",
    ],
)
async def test_an_unknown_path_under_schema_is_the_404_envelope(client: AsyncTestClient[Litestar], path: str) -> None:
    assert_error(await client.get(path), 404, "NOT_FOUND")


async def test_only_the_files_the_page_loads_are_served(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/schema")
    base = next(r for r in _REFERENCE.findall(page.text) if r.endswith(".css")).rsplit("/", 1)[0]
    for name in ("index.html", "swagger-initializer.js", "swagger-ui.js.map", "nope.js"):
        assert_error(await client.get(f"{base}/{name}"), 404, "NOT_FOUND")
