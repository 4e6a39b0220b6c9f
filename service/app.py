"""create_app: wiring only. Routes, error handlers, the lifespan that owns the pool, OpenAPI, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute

from service import config, docs, logs, metrics, openapi
from service.auth import JWTAuthMiddleware, build_verifier
from service.batch import batch_route
from service.changes import ChangesController
from service.cursors import CursorCodec, cursor_secret
from service.edge import Edge
from service.errors import EXCEPTION_HANDLERS, allow_header
from service.events import events
from service.feed_cursors import FeedCursorCodec
from service.gateway import Gateway
from service.health import health, ready
from service.listener import Listener
from service.live import Hub, close_on_stop_signal
from service.ratelimit import RateLimit, WindowCounter, counter_for
from service.tasks import TaskController

CLIENT_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
    "Last-Event-ID",
]
EXPOSED_HEADERS = ["ETag", "Location", "X-Request-ID", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining"]


def create_app(settings: config.Settings | None = None) -> Litestar:
    settings = settings or config.from_env()
    logs.configure(settings.log_level, settings.log_format)
    if settings.database_url is None:
        raise config.ConfigError("DATABASE_URL is not set (make run starts an embedded PostgreSQL and sets it)")
    dsn = settings.database_url
    verifier, jwks = build_verifier(settings)
    # Redis when REDIS_URL is set, so every worker and instance counts against one limit.
    counter = counter_for(settings.redis_url) if settings.rate_limit_per_minute > 0 else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.gateway = await Gateway.open(settings, dsn)
        if jwks is not None:
            await jwks.start()
        hub = app.state.live = Hub(settings.sse_max_streams_per_user)
        listener = Listener(settings.listen_database_url or dsn, hub)
        await listener.start()
        restore_signals = close_on_stop_signal(hub)
        try:
            async with metrics.pool_gauges(app.state.gateway):
                yield
        finally:
            hub.close()
            restore_signals()
            await listener.close()
            if jwks is not None:
                await jwks.close()
            await app.state.gateway.close()
            if counter is not None:
                await counter.close()

    api = Router(
        path="/",
        route_handlers=[ChangesController, TaskController, events, batch_route(settings.max_batch_bytes)],
        middleware=_api_middleware(settings, counter),
    )
    app = Litestar(
        route_handlers=[api, health, ready, metrics.MetricsController],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        cors_config=_cors(settings),
        openapi_config=_openapi(),
        logging_config=None,  # logs.configure owns logging; Litestar's default would replace its handlers
        debug=False,
    )
    openapi.complete(app)
    app.state.settings = settings
    app.state.verifier = verifier
    secret = cursor_secret(settings.cursor_secret, settings.jwt_secret, settings.database_url)
    app.state.cursors = CursorCodec(secret)
    app.state.feed_cursors = FeedCursorCodec(secret)
    # Around Litestar's whole handler rather than one route: unmatched routes and middleware errors too.
    allow = {r.path_format: allow_header(r.methods) for r in app.routes if isinstance(r, HTTPRoute)}
    app.asgi_handler = Edge(app.asgi_handler, access_log=settings.access_log, allow=allow)
    return app


def _api_middleware(settings: config.Settings, counter: WindowCounter | None) -> list[Any]:
    """Authentication first; the rate limit counts per user, so it runs once the user is known."""
    middleware: list[Any] = [DefineMiddleware(JWTAuthMiddleware)]
    if counter is not None:
        middleware.append(RateLimit(counter, settings.rate_limit_per_minute))
    return middleware


def _cors(settings: config.Settings) -> CORSConfig | None:
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=CLIENT_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,  # Bearer tokens, never cookies
        max_age=600,
    )


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Task API",
        version=openapi.version(),
        description="Multi-tenant task management. Every /api route needs `Authorization: Bearer <JWT>`.",
        openapi_router=docs.router(),
        render_plugins=[docs.swagger(), JsonRenderPlugin()],
        components=Components(
            security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
        ),
    )
