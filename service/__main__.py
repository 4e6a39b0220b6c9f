"""CLI: `python -m service serve | migrate | purge | token USER_ID [--ttl SECONDS]`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from service import config

DATA_DIR = Path(__file__).resolve().parents[1] / ".data" / "postgres"
SHUTDOWN_TIMEOUT_SECONDS = 25


@contextmanager
def database(settings: config.Settings, *, owner: bool) -> Iterator[str]:
    """DATABASE_URL, or an embedded PostgreSQL under .data/.

    The owner (serve) stops it on the way out, also one it found still running after a hard kill;
    a helper command (migrate) stops only a server it started itself.
    """
    if settings.database_url is not None:
        yield settings.database_url
        return
    try:
        from service import devdb
    except ImportError:  # the production image carries no dev tools
        raise config.ConfigError("DATABASE_URL is not set (the embedded PostgreSQL is for development only)") from None

    was_running = devdb.is_running(DATA_DIR)
    url = devdb.start(DATA_DIR)
    print(
        f"embedded PostgreSQL {'reused' if was_running else 'started'} in {DATA_DIR.parent.name}/{DATA_DIR.name}",
        file=sys.stderr,
    )
    try:
        yield url
    finally:
        if owner or not was_running:
            devdb.stop(DATA_DIR)


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


def serve(settings: config.Settings) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    from service import migrate

    with database(settings, owner=True) as url, worker_metrics(settings.web_concurrency):
        os.environ["DATABASE_URL"] = url  # the workers build their settings from the environment
        applied = migrate.apply(settings.migrations_database_url or url)
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
        print(f"serving on http://{settings.host}:{settings.port}", file=sys.stderr)
        server.serve()


def run_migrations(settings: config.Settings) -> None:
    import psycopg

    from service import migrate

    if settings.migrations_database_url is not None:  # Neon: migrate through the direct URL, not the pooler
        settings = msgspec.structs.replace(settings, database_url=settings.migrations_database_url)
    with database(settings, owner=False) as url:
        try:
            applied = migrate.apply(url)
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            raise config.ConfigError(f"cannot reach the database to migrate: {reason}") from None
        print(f"migrations: {applied} applied", file=sys.stderr)


def run_purge(settings: config.Settings) -> None:
    import asyncio

    import asyncpg

    from service.errors import Unavailable
    from service.purge import purge

    with database(settings, owner=False) as url:
        try:
            report = asyncio.run(purge(settings, url))
        except (OSError, asyncpg.PostgresError, Unavailable) as error:
            raise config.ConfigError(f"cannot purge, the database is not reachable ({type(error).__name__})") from None
        print(
            f"purge: {report.tombstones} tombstones of {report.users} users, older than "
            f"{settings.sync_retention_days} days",
            file=sys.stderr,
        )


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
    token_parser = commands.add_parser("token", help="print an HS256 token for local use")
    token_parser.add_argument("user_id")
    token_parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default 3600)")
    args = parser.parse_args(argv)
    try:
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
            serve(settings)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
