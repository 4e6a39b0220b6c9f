"""Liveness and readiness, for load balancers and container platforms; no auth."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get

from service.errors import Unavailable
from service.gateway import Gateway

READY_TIMEOUT_SECONDS = 2.0


class Health(msgspec.Struct, frozen=True):
    status: str = "ok"


class Ready(msgspec.Struct, frozen=True):
    status: str = "ok"
    database: str = "ok"


@get("/health", summary="Liveness", tags=["health"])
async def health() -> Health:
    """The process answers; touches no database."""
    return Health()


@get("/health/ready", summary="Readiness", tags=["health"])
async def ready(request: Request[Any, Any, Any]) -> Ready:
    """The database answers within a short timeout; 503 SERVICE_UNAVAILABLE otherwise."""
    gateway: Gateway = request.app.state.gateway
    try:
        await gateway.ping(within=READY_TIMEOUT_SECONDS)
    except Unavailable:
        raise Unavailable("The database is not reachable.", {"database": "unreachable"}) from None
    return Ready()
