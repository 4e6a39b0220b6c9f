"""Settings from the environment: defaults, bounds, key sources, URLs and choices (DESIGN.md, Configuration)."""

from __future__ import annotations

import pytest

from service import cpus
from service.config import VARIABLES, ConfigError, Settings, from_env

SECRET = "s" * 40

# (variable, a value below its minimum); the minimums follow from what each setting means.
NUMBERS: list[tuple[str, str]] = [
    ("PORT", "0"),
    ("WEB_CONCURRENCY", "0"),
    ("JWT_LEEWAY_SECONDS", "-1"),
    ("JWKS_CACHE_SECONDS", "0"),
    ("JWKS_MIN_REFETCH_SECONDS", "-1"),
    ("JWKS_TIMEOUT_SECONDS", "0"),
    ("DB_POOL_MIN_SIZE", "-1"),
    ("DB_POOL_MAX_SIZE", "0"),
    ("DB_POOL_TIMEOUT_SECONDS", "0"),
    ("DB_STATEMENT_TIMEOUT_MS", "0"),
    ("DB_STATEMENT_CACHE_SIZE", "-1"),
    ("MAX_BODY_BYTES", "0"),
    ("MAX_BATCH_BYTES", "0"),
    ("RATE_LIMIT_PER_MINUTE", "-1"),
    ("SSE_HEARTBEAT_SECONDS", "0.05"),
    ("SSE_MAX_SECONDS", "0.5"),
    ("SSE_MAX_STREAMS_PER_USER", "0"),
]
NAMES = [variable for variable, _ in NUMBERS]
FLOATS = [
    "JWKS_MIN_REFETCH_SECONDS",
    "JWKS_TIMEOUT_SECONDS",
    "DB_POOL_TIMEOUT_SECONDS",
    "SSE_HEARTBEAT_SECONDS",
    "SSE_MAX_SECONDS",
]


def _error(environ: dict[str, str], variable: str) -> str:
    with pytest.raises(ConfigError) as caught:
        from_env(environ)
    message = str(caught.value)
    assert variable in message, message
    assert "\n" not in message and message.strip() == message and message
    return message


def test_defaults() -> None:
    settings = from_env({"JWT_SECRET": SECRET})
    assert settings == Settings(jwt_secret=SECRET)
    assert settings.database_url is None
    assert (settings.host, settings.port, settings.web_concurrency) == ("127.0.0.1", 8000, cpus.available())
    assert settings.jwt_jwks_url is None and settings.jwt_issuer is None and settings.jwt_audience is None
    assert (settings.jwt_user_claim, settings.jwt_leeway_seconds) == ("sub", 30)
    assert settings.cors_origins == ()
    assert (settings.db_pool_min_size, settings.db_pool_max_size) == (2, 10)
    assert settings.db_pool_timeout_seconds == 5
    assert settings.db_statement_timeout_ms == 5000
    assert settings.max_body_bytes == 65536
    assert settings.rate_limit_per_minute == 0
    assert (settings.log_level, settings.log_format) == ("INFO", "json")


def test_values_are_read() -> None:
    settings = from_env(
        {
            "JWT_SECRET": SECRET,
            "DATABASE_URL": "postgresql://app:pw@db.example:5432/tasks",
            "PORT": " 9000 ",
            "HOST": "0.0.0.0",
            "DB_POOL_TIMEOUT_SECONDS": "2.5",
            "DB_STATEMENT_CACHE_SIZE": "0",
            "JWT_ISSUER": "https://auth.example",
            "JWT_AUDIENCE": "tasks",
            "JWT_USER_CLAIM": "uid",
        }
    )
    assert settings.database_url == "postgresql://app:pw@db.example:5432/tasks"
    assert (settings.port, settings.host) == (9000, "0.0.0.0")
    assert settings.db_pool_timeout_seconds == 2.5
    assert settings.db_statement_cache_size == 0
    assert (settings.jwt_issuer, settings.jwt_audience, settings.jwt_user_claim) == (
        "https://auth.example",
        "tasks",
        "uid",
    )


@pytest.mark.parametrize("variable", NAMES)
@pytest.mark.parametrize("value", ["abc", "1.5x", "1e", "0x10"])
def test_number_rejects_a_non_number(variable: str, value: str) -> None:
    message = _error({"JWT_SECRET": SECRET, variable: value}, variable)
    assert repr(value) in message


@pytest.mark.parametrize("variable", NAMES)
def test_blank_number_counts_as_unset(variable: str) -> None:
    assert from_env({"JWT_SECRET": SECRET, variable: "  "}) == Settings(jwt_secret=SECRET)


@pytest.mark.parametrize(("variable", "value"), NUMBERS, ids=NAMES)
def test_number_rejects_a_value_below_its_minimum(variable: str, value: str) -> None:
    _error({"JWT_SECRET": SECRET, variable: value}, variable)


@pytest.mark.parametrize("variable", [v for v in NAMES if v not in FLOATS])
def test_whole_number_rejects_a_fraction(variable: str) -> None:
    _error({"JWT_SECRET": SECRET, variable: "2.5"}, variable)


@pytest.mark.parametrize("variable", FLOATS)
def test_seconds_reject_nan(variable: str) -> None:
    _error({"JWT_SECRET": SECRET, variable: "nan"}, variable)


def test_pool_min_must_not_exceed_max() -> None:
    _error({"JWT_SECRET": SECRET, "DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "4"}, "DB_POOL_MIN_SIZE")


def test_no_key_source_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        from_env({})
    message = str(caught.value)
    assert "JWT_SECRET" in message and "JWT_JWKS_URL" in message
    assert "\n" not in message


def test_need_keys_false_allows_no_key_source() -> None:
    settings = from_env({}, need_keys=False)
    assert settings.jwt_secret is None and settings.jwt_jwks_url is None


def test_need_keys_false_still_checks_values() -> None:
    _error({"PORT": "abc"}, "PORT")


def test_short_secret_is_refused() -> None:
    _error({"JWT_SECRET": "s" * 31}, "JWT_SECRET")
    assert from_env({"JWT_SECRET": "s" * 32}).jwt_secret == "s" * 32


def test_secret_length_counts_bytes() -> None:
    assert from_env({"JWT_SECRET": "é" * 16}).jwt_secret == "é" * 16  # 32 bytes in UTF-8


def test_better_auth_secret_is_an_alias() -> None:
    assert from_env({"BETTER_AUTH_SECRET": SECRET}).jwt_secret == SECRET
    with pytest.raises(ConfigError):
        from_env({"BETTER_AUTH_SECRET": "short"})


def test_jwks_url_alone_is_a_key_source() -> None:
    settings = from_env({"JWT_JWKS_URL": "https://app.example/api/auth/jwks"})
    assert settings.jwt_jwks_url == "https://app.example/api/auth/jwks"
    assert settings.jwt_secret is None
    assert from_env({"JWT_JWKS_URL": "http://localhost:3000/api/auth/jwks"}).jwt_jwks_url is not None


@pytest.mark.parametrize("url", ["ftp://app.example/jwks", "app.example/jwks", "https://", "file:///etc/jwks.json"])
def test_jwks_url_must_be_http(url: str) -> None:
    _error({"JWT_SECRET": SECRET, "JWT_JWKS_URL": url}, "JWT_JWKS_URL")


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u:p@h:5432/db?sslmode=require"])
def test_database_url_accepts_postgres(url: str) -> None:
    assert from_env({"JWT_SECRET": SECRET, "DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite:///tasks.db", "h:5432/db"])
def test_database_url_rejects_other_schemes(url: str) -> None:
    _error({"JWT_SECRET": SECRET, "DATABASE_URL": url}, "DATABASE_URL")


def test_live_update_settings() -> None:
    defaults = from_env({"JWT_SECRET": SECRET})
    assert defaults.listen_database_url is None  # the LISTEN connection then uses DATABASE_URL
    assert (defaults.sse_heartbeat_seconds, defaults.sse_max_seconds, defaults.sse_max_streams_per_user) == (
        15,
        240,
        20,
    )
    settings = from_env(
        {
            "JWT_SECRET": SECRET,
            "LISTEN_DATABASE_URL": "postgresql://u@direct.example/db",
            "SSE_HEARTBEAT_SECONDS": "0.5",
            "SSE_MAX_SECONDS": "60",
            "SSE_MAX_STREAMS_PER_USER": "3",
        }
    )
    assert settings.listen_database_url == "postgresql://u@direct.example/db"
    assert (settings.sse_heartbeat_seconds, settings.sse_max_seconds, settings.sse_max_streams_per_user) == (0.5, 60, 3)
    _error({"JWT_SECRET": SECRET, "LISTEN_DATABASE_URL": "redis://h"}, "LISTEN_DATABASE_URL")


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", ()),
        ("https://app.example", ("https://app.example",)),
        (" https://a.example/ , http://localhost:3000,, ", ("https://a.example", "http://localhost:3000")),
        ("*", ("*",)),
    ],
)
def test_cors_origins(value: str, origins: tuple[str, ...]) -> None:
    assert from_env({"JWT_SECRET": SECRET, "CORS_ORIGINS": value}).cors_origins == origins


def test_cors_origins_must_be_http_origins() -> None:
    _error({"JWT_SECRET": SECRET, "CORS_ORIGINS": "https://a.example,app.example"}, "CORS_ORIGINS")


@pytest.mark.parametrize(("value", "level"), [("debug", "DEBUG"), ("WARNING", "WARNING"), (" error ", "ERROR")])
def test_log_level_choices(value: str, level: str) -> None:
    assert from_env({"JWT_SECRET": SECRET, "LOG_LEVEL": value}).log_level == level


@pytest.mark.parametrize(("value", "fmt"), [("json", "json"), ("Console", "console")])
def test_log_format_choices(value: str, fmt: str) -> None:
    assert from_env({"JWT_SECRET": SECRET, "LOG_FORMAT": value}).log_format == fmt


@pytest.mark.parametrize(("variable", "value"), [("LOG_LEVEL", "verbose"), ("LOG_FORMAT", "xml")])
def test_log_choices_reject_others(variable: str, value: str) -> None:
    message = _error({"JWT_SECRET": SECRET, variable: value}, variable)
    assert value.lower() in message.lower()


@pytest.mark.parametrize(("value", "on"), [("false", False), ("0", False), ("TRUE", True), ("1", True)])
def test_access_log_switch(value: str, on: bool) -> None:
    assert from_env({"JWT_SECRET": SECRET, "ACCESS_LOG": value}).access_log is on


def test_access_log_rejects_other_words() -> None:
    _error({"JWT_SECRET": SECRET, "ACCESS_LOG": "yes"}, "ACCESS_LOG")


@pytest.mark.parametrize("variable", FLOATS)
def test_seconds_reject_infinity(variable: str) -> None:
    _error({"JWT_SECRET": SECRET, variable: "inf"}, variable)


def test_every_setting_has_the_variable_of_its_name() -> None:
    fields = Settings.__struct_fields__
    assert set(VARIABLES) == {name.upper() for name in fields} | {"BETTER_AUTH_SECRET"}
    assert from_env({"JWT_SECRET": SECRET, "CURSOR_SECRET": " c "}).cursor_secret == "c"
