"""Settings: the environment, read once into one typed, frozen struct."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import msgspec

MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line a person can act on."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    migrations_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 1
    jwt_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_user_claim: str = "sub"
    jwt_leeway_seconds: int = 30
    jwks_cache_seconds: int = 300
    jwks_min_refetch_seconds: float = 10.0
    jwks_timeout_seconds: float = 3.0
    cors_origins: tuple[str, ...] = ()
    db_pool_min_size: int = 2
    db_pool_max_size: int = 10
    db_pool_timeout_seconds: float = 5.0
    db_statement_timeout_ms: int = 5000
    db_statement_cache_size: int = 100
    max_body_bytes: int = 65536
    rate_limit_per_minute: int = 0
    redis_url: str | None = None
    cursor_secret: str | None = None
    sync_retention_days: int = 30
    access_log: bool = True
    listen_database_url: str | None = None  # None: DATABASE_URL
    sse_heartbeat_seconds: float = 15.0
    sse_max_seconds: float = 240.0
    sse_max_streams_per_user: int = 20
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"


# (environment variable, field, lower bound or None); ints and floats are range-checked.
_NUMBERS: tuple[tuple[str, str, float], ...] = (
    ("PORT", "port", 1),
    ("WEB_CONCURRENCY", "web_concurrency", 1),
    ("JWT_LEEWAY_SECONDS", "jwt_leeway_seconds", 0),
    ("JWKS_CACHE_SECONDS", "jwks_cache_seconds", 1),
    ("JWKS_MIN_REFETCH_SECONDS", "jwks_min_refetch_seconds", 0),
    ("JWKS_TIMEOUT_SECONDS", "jwks_timeout_seconds", 0.1),
    ("DB_POOL_MIN_SIZE", "db_pool_min_size", 0),
    ("DB_POOL_MAX_SIZE", "db_pool_max_size", 1),
    ("DB_POOL_TIMEOUT_SECONDS", "db_pool_timeout_seconds", 0.1),
    ("DB_STATEMENT_TIMEOUT_MS", "db_statement_timeout_ms", 1),
    ("DB_STATEMENT_CACHE_SIZE", "db_statement_cache_size", 0),
    ("MAX_BODY_BYTES", "max_body_bytes", 1),
    ("RATE_LIMIT_PER_MINUTE", "rate_limit_per_minute", 0),
    ("SSE_HEARTBEAT_SECONDS", "sse_heartbeat_seconds", 0.1),
    ("SSE_MAX_SECONDS", "sse_max_seconds", 1),
    ("SSE_MAX_STREAMS_PER_USER", "sse_max_streams_per_user", 1),
    ("SYNC_RETENTION_DAYS", "sync_retention_days", 0),
)

_STRINGS: tuple[tuple[str, str], ...] = (
    ("DATABASE_URL", "database_url"),
    ("MIGRATIONS_DATABASE_URL", "migrations_database_url"),
    ("LISTEN_DATABASE_URL", "listen_database_url"),
    ("HOST", "host"),
    ("JWT_JWKS_URL", "jwt_jwks_url"),
    ("JWT_ISSUER", "jwt_issuer"),
    ("JWT_AUDIENCE", "jwt_audience"),
    ("JWT_USER_CLAIM", "jwt_user_claim"),
    ("REDIS_URL", "redis_url"),
    ("CURSOR_SECRET", "cursor_secret"),
)


# Every variable from_env reads: tests and tools use it to keep a parent's settings out of a child.
VARIABLES: tuple[str, ...] = (
    *(variable for variable, _ in _STRINGS),
    *(variable for variable, _, _ in _NUMBERS),
    "JWT_SECRET",
    "BETTER_AUTH_SECRET",
    "CORS_ORIGINS",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "ACCESS_LOG",
)


def from_env(environ: Mapping[str, str] | None = None, *, need_keys: bool = True) -> Settings:
    """Read and check every setting; raise ConfigError naming the first bad variable.

    `need_keys=False` is for commands that verify no token (migrate).
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for variable, field in _STRINGS:
        if value := env.get(variable, "").strip():
            raw[field] = value
    secret = env.get("JWT_SECRET") or env.get("BETTER_AUTH_SECRET")
    if secret:
        raw["jwt_secret"] = secret
    for variable, field, minimum in _NUMBERS:
        if value := env.get(variable, "").strip():
            raw[field] = _number(variable, value, minimum, float_ok=isinstance(_default(field), float))
    if origins := env.get("CORS_ORIGINS", "").strip():
        raw["cors_origins"] = tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip())
    if (level := env.get("LOG_LEVEL", "").strip().upper()) != "":
        raw["log_level"] = _choice("LOG_LEVEL", level, ("DEBUG", "INFO", "WARNING", "ERROR"))
    if (fmt := env.get("LOG_FORMAT", "").strip().lower()) != "":
        raw["log_format"] = _choice("LOG_FORMAT", fmt, ("json", "console"))
    if (access := env.get("ACCESS_LOG", "").strip().lower()) != "":
        raw["access_log"] = _choice("ACCESS_LOG", access, ("true", "false", "1", "0")) in ("true", "1")
    settings = msgspec.convert(raw, Settings)
    _check(settings, need_keys=need_keys)
    return settings


def _default(field: str) -> object:
    return Settings.__struct_defaults__[Settings.__struct_fields__.index(field)]


def _number(variable: str, value: str, minimum: float, *, float_ok: bool) -> float | int:
    try:
        number: float | int = float(value) if float_ok else int(value)
    except ValueError:
        kind = "a number" if float_ok else "a whole number"
        raise ConfigError(f"{variable} must be {kind}, got {value!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise ConfigError(f"{variable} must be at least {minimum:g}, got {value!r}")
    return number


def _choice(variable: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{variable} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _check(settings: Settings, *, need_keys: bool) -> None:
    if need_keys and settings.jwt_secret is None and settings.jwt_jwks_url is None:
        raise ConfigError("no JWT key source: set JWT_SECRET (or BETTER_AUTH_SECRET) and/or JWT_JWKS_URL")
    if settings.jwt_secret is not None and len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
    if settings.jwt_jwks_url is not None and not _is_http_url(settings.jwt_jwks_url):
        raise ConfigError(f"JWT_JWKS_URL must be an http(s) URL, got {settings.jwt_jwks_url!r}")
    for name, url in (
        ("DATABASE_URL", settings.database_url),
        ("MIGRATIONS_DATABASE_URL", settings.migrations_database_url),
        ("LISTEN_DATABASE_URL", settings.listen_database_url),
    ):
        if url is not None and urlsplit(url).scheme not in ("postgres", "postgresql"):
            raise ConfigError(f"{name} must start with postgresql:// or postgres://")
    if settings.db_pool_min_size > settings.db_pool_max_size:
        raise ConfigError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
    if settings.redis_url is not None and urlsplit(settings.redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
    for origin in settings.cors_origins:
        if origin != "*" and not _is_http_url(origin):
            raise ConfigError(f"CORS_ORIGINS entries must be http(s) origins, got {origin!r}")


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
