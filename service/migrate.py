"""Schema migrations with yoyo: apply what is missing, under yoyo's lock so concurrent deploys are safe."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def yoyo_url(database_url: str) -> str:
    """yoyo picks its driver by URL scheme; psycopg 3 is `postgresql+psycopg`."""
    _, _, rest = database_url.partition("://")
    return f"postgresql+psycopg://{rest}"


def apply(database_url: str) -> int:
    """Apply every pending migration; returns how many were applied (0 when up to date)."""
    backend = get_backend(yoyo_url(database_url))
    try:
        migrations = read_migrations(str(MIGRATIONS))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return len(pending)
    finally:
        backend.connection.close()


def rollback_all(database_url: str) -> int:
    backend = get_backend(yoyo_url(database_url))
    try:
        migrations = read_migrations(str(MIGRATIONS))
        with backend.lock():
            applied = backend.to_rollback(migrations)
            backend.rollback_migrations(applied)
        return len(applied)
    finally:
        backend.connection.close()
