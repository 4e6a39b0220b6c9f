"""create_app: wiring only. Routes, error handlers, the lifespan that owns the pool, OpenAPI, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from service import config, logs
from service.auth import JWTAuthMiddleware, build_verifier
from service.errors import EXCEPTION_HANDLERS
from service.gateway import Gateway
from service.health import health, ready
from service.listing import CursorCodec, cursor_secret
from service.tasks import TaskController


def create_app(settings: config.Settings | None = None) -> Litestar:
    settings = settings or config.from_env()
    logs.configure(settings.log_level, settings.log_format)
    if settings.database_url is None:
        raise config.ConfigError("DATABASE_URL is not set (make run starts an embedded PostgreSQL and sets it)")
    dsn = settings.database_url

    verifier, jwks = build_verifier(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.gateway = await Gateway.open(settings, dsn)
        if jwks is not None:
            await jwks.start()
        try:
            yield
        finally:
            if jwks is not None:
                await jwks.close()
            await app.state.gateway.close()

    api = Router(
        path="/",
        route_handlers=[TaskController],
        middleware=[DefineMiddleware(JWTAuthMiddleware)],
    )
    app = Litestar(
        route_handlers=[api, health, ready],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_send=[logs.add_request_id],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=_openapi(),
        debug=False,
    )
    app.state.settings = settings
    app.state.verifier = verifier
    app.state.cursors = CursorCodec(cursor_secret(settings.cursor_secret, settings.jwt_secret, settings.database_url))
    return app


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Task API",
        version="1.0.0",
        description="Multi-tenant task management. Every /api route needs `Authorization: Bearer <JWT>`.",
        path="/schema",
        render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin()],
        components=Components(
            security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
        ),
    )
