"""Settings: the environment, read once into one typed, frozen struct."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec
import msgspec.inspect
from msgspec import Meta

from service import cpus

MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line a person can act on."""


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["json", "console"]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Each field is read from the variable of its name in upper case (JWT_SECRET also from BETTER_AUTH_SECRET)."""

    database_url: str | None = None
    migrations_database_url: str | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1)] = 8000
    # Unset: the CPUs this process may use, the container's quota first (service/cpus.py).
    web_concurrency: Annotated[int, Meta(ge=1)] = msgspec.field(default_factory=cpus.available)
    jwt_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_user_claim: str = "sub"
    jwt_leeway_seconds: Annotated[int, Meta(ge=0)] = 30
    jwks_cache_seconds: Annotated[int, Meta(ge=1)] = 300
    jwks_min_refetch_seconds: Annotated[float, Meta(ge=0)] = 10.0
    jwks_timeout_seconds: Annotated[float, Meta(ge=0.1)] = 3.0
    cors_origins: tuple[str, ...] = ()
    db_pool_min_size: Annotated[int, Meta(ge=0)] = 2
    db_pool_max_size: Annotated[int, Meta(ge=1)] = 10
    db_pool_timeout_seconds: Annotated[float, Meta(ge=0.1)] = 5.0
    db_statement_timeout_ms: Annotated[int, Meta(ge=1)] = 5000
    db_statement_cache_size: Annotated[int, Meta(ge=0)] = 100
    max_body_bytes: Annotated[int, Meta(ge=1)] = 65536
    max_batch_bytes: Annotated[int, Meta(ge=1)] = 1_048_576  # POST /tasks/batch only
    rate_limit_per_minute: Annotated[int, Meta(ge=0)] = 0
    redis_url: str | None = None
    cursor_secret: str | None = None
    sync_retention_days: Annotated[int, Meta(ge=0)] = 30
    access_log: bool = True
    listen_database_url: str | None = None  # None: DATABASE_URL
    sse_heartbeat_seconds: Annotated[float, Meta(ge=0.1)] = 15.0
    sse_max_seconds: Annotated[float, Meta(ge=1)] = 240.0
    sse_max_streams_per_user: Annotated[int, Meta(ge=1)] = 20
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "json"


ALIASES = {"BETTER_AUTH_SECRET": "jwt_secret"}  # read when the field's own variable is unset
_VERBATIM = frozenset({"jwt_secret"})  # a secret is taken as given, spaces and all
_NORMALISE: dict[str, Callable[[str], object]] = {
    "cors_origins": lambda value: tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip()),
    "log_level": str.upper,
    "log_format": str.lower,
}
_INFO = msgspec.inspect.type_info(Settings)
assert isinstance(_INFO, msgspec.inspect.StructType)
_FIELDS = {field.name: field for field in _INFO.fields}

# Every variable from_env reads: tests and tools use it to keep a parent's settings out of a child.
VARIABLES: tuple[str, ...] = (*(name.upper() for name in _FIELDS), *ALIASES)


def from_env(environ: Mapping[str, str] | None = None, *, need_keys: bool = True) -> Settings:
    """Read and check every setting; raise ConfigError naming the first bad variable.

    `need_keys=False` is for commands that verify no token (migrate).
    """
    env = os.environ if environ is None else environ
    given: dict[str, str] = {}
    for variable, name in (*((name.upper(), name) for name in _FIELDS), *ALIASES.items()):
        value = env.get(variable, "")
        value = value if name in _VERBATIM else value.strip()
        if value and name not in given:
            given[name] = value
    raw = {name: _NORMALISE.get(name, str)(value) for name, value in given.items()}
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        name = str(error).rpartition("`$.")[2].rstrip("`")
        raise ConfigError(f"{name.upper()} must be {_expected(name)}, got {given.get(name)!r}") from None
    _check(settings, need_keys=need_keys)
    return settings


def _expected(name: str) -> str:
    kind = _FIELDS[name].type
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        what = "a whole number" if isinstance(kind, msgspec.inspect.IntType) else "a number"
        return what if kind.ge is None else f"{what} of at least {kind.ge:g}"
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(map(str, kind.values))
    if isinstance(kind, msgspec.inspect.BoolType):
        return "true or false (or 1 or 0)"
    return "valid"


def _check(settings: Settings, *, need_keys: bool) -> None:
    for name, value in msgspec.structs.asdict(settings).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{name.upper()} must be a finite number, got {value!r}")
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
