"""The interactive API docs under /schema, served whole by the service.

Swagger UI's files come from a pinned package (swagger-ui-bundle-v2) through Litestar's static files router,
so the docs work offline and under a strict Content-Security-Policy; Litestar's defaults load them, and a
favicon, from a CDN. The package's version is in the files' path, so they may be cached for good. Unknown
paths under /schema answer the contract's 404 envelope, not Litestar's HTML error page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from service.errors import NotFound, error_response

PATH = "/schema"
DIST: Path = swagger_ui_path  # .../swagger-ui-<version>
ASSETS = f"{PATH}/{DIST.name}"
# What the page loads; the package also holds a demo page wired to a remote example API, not served.
_SERVED = frozenset({"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"})
_YEAR = 365 * 24 * 3600


def swagger() -> SwaggerRenderPlugin:
    """Swagger UI at /schema itself, every file it loads from the service."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


def router() -> Router:
    """The /schema router: Litestar adds the render plugins' routes to it; it serves the assets itself."""
    assets = create_static_files_router(
        path=f"/{DIST.name}",
        directories=[DIST],
        before_request=_only_what_the_page_loads,
        cache_control=CacheControlHeader(public=True, max_age=_YEAR, immutable=True),
    )
    return Router(PATH, route_handlers=[assets], include_in_schema=False, after_request=_not_found_as_envelope)


async def _only_what_the_page_loads(request: Request[Any, Any, Any]) -> None:
    if str(request.path_params["file_path"]).lstrip("/") not in _SERVED:
        raise NotFoundException()


async def _not_found_as_envelope(response: Any) -> Any:
    """Litestar answers an unknown path under /schema with an HTML page of its own; the contract has one 404."""
    if isinstance(response, Response) and response.status_code == 404:
        return error_response(NotFound())
    return response
