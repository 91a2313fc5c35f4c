"""Resolving and opening the database connection, embedded or from `DATABASE_URL`."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from wearable_pipeline.config import Settings
from wearable_pipeline.db import embedded


class DatabaseUnavailableError(RuntimeError):
    """The configured database could not be reached; the message says which and why."""


def resolve_database_url(settings: Settings) -> str:
    """`DATABASE_URL` when set, else the embedded server's URL (starting it if needed)."""
    if settings.database_url:
        return settings.database_url
    return embedded.ensure_running(settings.home)


def connect(url: str, *, autocommit: bool = False, **kwargs: object) -> psycopg.Connection:
    """Open a psycopg connection, turning a failure into a message that names the target."""
    try:
        return psycopg.connect(url, autocommit=autocommit, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(
            f"cannot connect to {redact(url)}: {str(exc).strip()}"
        ) from exc


@dataclass(frozen=True)
class ConnectionParts:
    """The pieces dbt's `profiles.yml` and `psql` need, taken from a URL."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def as_env(self) -> dict[str, str]:
        """Environment variables read by `dbt/profiles.yml` (and libpq's own PG* names)."""
        return {
            "WEARABLE_DB_HOST": self.host,
            "WEARABLE_DB_PORT": str(self.port),
            "WEARABLE_DB_USER": self.user,
            "WEARABLE_DB_PASSWORD": self.password,
            "WEARABLE_DB_NAME": self.dbname,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }


def connection_parts(url: str) -> ConnectionParts:
    """Split a libpq URL (TCP or Unix-socket `?host=/dir`) into its parts."""
    parts = conninfo_to_dict(url)
    return ConnectionParts(
        host=str(parts.get("host") or "localhost"),
        port=int(parts.get("port") or 5432),
        user=str(parts.get("user") or "postgres"),
        password=str(parts.get("password") or ""),
        dbname=str(parts.get("dbname") or parts.get("user") or "postgres"),
    )


def redact(url: str) -> str:
    """The URL with its password replaced, safe for logs and error messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or 5432
    return f"postgresql://{parts.get('user', '')}@{host}:{port}/{parts.get('dbname', '')}"
