"""CLI: `python -m service serve | migrate | purge | openapi | token USER_ID [--ttl SECONDS]`."""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType

import msgspec

from service import config

SHUTDOWN_TIMEOUT_SECONDS = 25
DATABASE_WAIT_SECONDS = 30


class Refused(Exception):
    """serve cannot start here; the message is the one line to print (not a configuration error)."""


def _devdb() -> ModuleType | None:
    """The dev-only module, or None where it is absent (the production image, a checkout without dev deps)."""
    try:
        from service import devdb
    except ImportError:
        return None
    return devdb


@contextmanager
def database(settings: config.Settings, *, serving: bool) -> Iterator[str]:
    """DATABASE_URL, or the checkout's embedded PostgreSQL under .data/.

    serve owns the embedded server for as long as it runs: a second serve in the same checkout is
    refused before it touches anything, and the owner stops the server on the way out (also one a
    hard-killed run left behind). migrate uses the server a running serve owns and leaves it running.
    """
    if settings.database_url is not None:
        yield settings.database_url
        return
    devdb = _devdb()
    if devdb is None:
        raise config.ConfigError("DATABASE_URL is not set (the embedded PostgreSQL is for development only)")
    with ExitStack() as stack:
        try:
            stack.enter_context(devdb.ownership(settings.port if serving else 0))
            owner = True
        except devdb.Busy as busy:
            if serving:
                raise Refused(f"{busy} (one `make run` per checkout: it owns .data/postgres)") from None
            owner = False
        if serving:
            _check_port(settings.host, settings.port)
        was_running = devdb.is_running(devdb.POSTGRES)
        url = devdb.start(devdb.POSTGRES)
        where = f"{devdb.POSTGRES.parent.name}/{devdb.POSTGRES.name}"
        print(f"embedded PostgreSQL {'reused' if was_running else 'started'} in {where}", file=sys.stderr)
        try:
            yield url
        finally:
            if owner and (serving or not was_running):
                devdb.stop(devdb.POSTGRES)
                print(f"embedded PostgreSQL stopped ({where})", file=sys.stderr)


@contextmanager
def worker_metrics(workers: int) -> Iterator[None]:
    """With several workers, PROMETHEUS_MULTIPROC_DIR: each worker keeps its metrics in files there and a
    scrape sums them all (service/metrics.py). Set before granian forks the workers and before anything
    imports prometheus_client (it reads the variable at import); emptied first, so no earlier run adds in.
    Without a directory given, a temporary one, removed on the way out."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if workers < 2 and not given:
        yield
        return
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="tasks-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    try:
        yield
    finally:
        if not given:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            shutil.rmtree(directory, ignore_errors=True)


def _check_port(host: str, port: int) -> None:
    """One line instead of granian's traceback when the address is taken (or not ours to take)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        # As a server binds: a port whose old connections linger in TIME_WAIT is free, a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be bound ({error.strerror})"
            raise Refused(f"{host}:{port} {reason}; choose another port: PORT={port + 1} make run") from None


def serve(settings: config.Settings, *, dev_secret: bool) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    if settings.database_url is not None:  # the embedded case checks once it owns the checkout
        _check_port(settings.host, settings.port)
    with database(settings, serving=True) as url, worker_metrics(settings.web_concurrency):
        os.environ["DATABASE_URL"] = url  # the workers build their settings from the environment
        applied = _migrate(settings.migrations_database_url or url, wait=DATABASE_WAIT_SECONDS)
        print(f"migrations: {applied} applied", file=sys.stderr)
        server = Granian(
            "service.app:create_app",
            factory=True,
            interface=Interfaces.ASGI,
            address=settings.host,
            port=settings.port,
            workers=settings.web_concurrency,
            loop=Loops.uvloop,
            log_access=False,  # the service writes its own access line, with the route template and request id
            respawn_failed_workers=True,
            # SIGTERM: stop accepting, let in-flight requests finish, but never hang a deploy.
            workers_kill_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        )
        base = f"http://{settings.host}:{settings.port}"
        print(f"serving on {base} (docs: {base}/schema; Ctrl-C stops)", file=sys.stderr)
        if dev_secret:
            print("tokens for local calls: make token NAME=alice", file=sys.stderr)
        server.serve()


def _use_dev_secret(command: str) -> bool:
    """serve and token sign with the checkout's dev secret when no key source is configured.

    Both read the same file, so a token printed by `make token` (or `python -m service token`) is
    accepted by `make run`. Without the dev module (the production image) nothing is guessed: the
    service refuses to start without a key source.
    """
    devdb = _devdb() if command in ("serve", "token") else None
    return devdb is not None and devdb.export_secret()


def _default_log_format() -> None:
    """Console lines for a person at a terminal, JSON lines for a log collector."""
    if not os.environ.get("LOG_FORMAT", "").strip():
        os.environ["LOG_FORMAT"] = "console" if sys.stderr.isatty() else "json"


def _migrate(url: str, *, wait: float) -> int:
    """Apply pending migrations, waiting up to `wait` seconds for the database to accept connections.

    serve waits: a database started beside it (compose, where the runtime cannot always wait for a
    health check) or waking from scale-to-zero answers a few seconds late. One line, never a traceback.
    """
    import psycopg

    from service import migrate

    deadline = time.monotonic() + wait
    waited = False
    while True:
        try:
            return migrate.apply(url)
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[0].strip() if str(error).strip() else type(error).__name__
            if time.monotonic() >= deadline:
                raise config.ConfigError(f"cannot reach the database to migrate: {reason}") from None
            if not waited:
                print(f"waiting up to {wait:g} s for the database ({reason})", file=sys.stderr)
                waited = True
            time.sleep(1)


def run_migrations(settings: config.Settings) -> None:
    if settings.migrations_database_url is not None:  # Neon: migrate through the direct URL, not the pooler
        settings = msgspec.structs.replace(settings, database_url=settings.migrations_database_url)
    with database(settings, serving=False) as url:
        applied = _migrate(url, wait=0)
        print(f"migrations: {applied} applied", file=sys.stderr)


def run_purge(settings: config.Settings) -> None:
    import asyncio

    import asyncpg

    from service.errors import Unavailable
    from service.purge import purge

    with database(settings, serving=False) as url:
        try:
            report = asyncio.run(purge(settings, url))
        except (OSError, asyncpg.PostgresError, Unavailable) as error:
            raise config.ConfigError(f"cannot purge, the database is not reachable ({type(error).__name__})") from None
        print(
            f"purge: {report.tombstones} tombstones of {report.users} users, older than "
            f"{settings.sync_retention_days} days",
            file=sys.stderr,
        )


def openapi_document() -> str:
    """The document GET /schema/openapi.json serves, as indented JSON, with no server and no database: the
    TypeScript client's types are generated from it. Fixed placeholder settings, so the environment never
    changes it."""
    from litestar.serialization import encode_json

    from service.app import create_app

    placeholder = config.Settings(database_url="postgresql://unused.invalid/openapi", jwt_secret="x" * 64)
    # The plugin's cached document is the very one the JSON route serves (and any later completion of it).
    document: dict[str, object] = create_app(placeholder).plugins.get("OpenAPIPlugin").provide_openapi_schema()
    return msgspec.json.format(encode_json(document), indent=2).decode() + "\n"


def healthcheck(settings: config.Settings) -> int:
    """The container's HEALTHCHECK: GET /health on this instance's port."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{settings.port}/health", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


def token(settings: config.Settings, user_id: str, ttl: int) -> None:
    from service.auth import issue_token

    print(issue_token(settings, user_id, ttl))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="apply migrations, then serve with granian")
    commands.add_parser("migrate", help="apply pending migrations (MIGRATIONS_DATABASE_URL, else DATABASE_URL)")
    commands.add_parser("purge", help="hard-delete tombstones older than SYNC_RETENTION_DAYS (run it daily)")
    commands.add_parser("healthcheck", help="exit 0 when /health answers on PORT")
    commands.add_parser("openapi", help="print the OpenAPI document (no server, no database)")
    token_parser = commands.add_parser("token", help="print an HS256 token for local use")
    token_parser.add_argument("user_id")
    token_parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default 3600)")
    args = parser.parse_args(argv)
    if args.command == "openapi":  # needs no configuration: the document depends on the code alone
        sys.stdout.write(openapi_document())
        return 0
    if args.command == "serve":
        _default_log_format()
    try:
        dev_secret = _use_dev_secret(args.command)
        settings = config.from_env(need_keys=args.command not in ("migrate", "healthcheck", "purge"))
        if args.command == "token" and settings.jwt_secret is None:
            raise config.ConfigError("token needs JWT_SECRET (or BETTER_AUTH_SECRET) to sign with")
        if args.command == "token" and (args.ttl < 1 or not args.user_id.strip()):
            raise config.ConfigError("token needs a non-empty USER_ID and a positive --ttl")
    except config.ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            serve(settings, dev_secret=dev_secret)
        elif args.command == "migrate":
            run_migrations(settings)
        elif args.command == "purge":
            run_purge(settings)
        elif args.command == "healthcheck":
            return healthcheck(settings)
        else:
            token(settings, args.user_id, args.ttl)
    except config.ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except Refused as refused:
        print(refused, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
