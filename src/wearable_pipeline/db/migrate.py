"""Numbered SQL migrations, applied in order, once, and safe to run again.

A process applies them where it starts — the CLI's `database_url()` helper, the event API's
lifespan, a flow run that Prefect started in a process of its own, a test fixture — through
`migrate_once`, never from the functions that merely use the database.

Each file in `migrations/` named `NNNN_description.sql` is applied in its own savepoint and
recorded in `ops.schema_migrations` with a checksum, all inside one transaction that holds an
advisory lock: concurrent callers (two CLI commands, the API and the flow starting together)
wait for each other, and a failing migration leaves the schema as it was.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Arbitrary but fixed: the advisory-lock key all migrators agree on.
_MIGRATION_LOCK_KEY = 727_001


class MigrationError(RuntimeError):
    """A migration failed, or an applied migration's file has changed since."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files, ordered by version; a badly named file is an error, not ignored."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text("utf-8")))
    versions = [m.version for m in migrations]
    if len(versions) != len(set(versions)):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply every pending migration; return the names applied (empty when up to date).

    Then makes sure every raw table of the source-format registry exists with all its declared
    columns, so dbt can select from them before any file has been loaded.
    """
    from wearable_pipeline.ingest.tables import ensure_registered_tables

    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK_KEY])
        conn.execute("create schema if not exists ops")
        conn.execute(
            """
            create table if not exists ops.schema_migrations (
                version    integer primary key,
                name       text not null,
                checksum   text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        done = {
            version: (name, checksum)
            for version, name, checksum in conn.execute(
                "select version, name, checksum from ops.schema_migrations"
            )
        }
        for migration in available_migrations():
            if migration.version in done:
                if done[migration.version][1] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} changed after it was applied; "
                        "add a new numbered migration instead of editing an applied one"
                    )
                continue
            try:
                with conn.transaction():
                    conn.execute(migration.sql)  # type: ignore[arg-type]
                    conn.execute(
                        "insert into ops.schema_migrations (version, name, checksum)"
                        " values (%s, %s, %s)",
                        [migration.version, migration.name, migration.checksum],
                    )
            except psycopg.Error as exc:
                raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            applied_now.append(migration.name)
            log.info("applied migration", extra={"migration": migration.name})
        ensure_registered_tables(conn)
    return applied_now


# Databases this process has brought up to date (their URLs): see `migrate_once`.
_MIGRATED_BY_THIS_PROCESS: set[str] = set()


def migrate_once(database_url: str, *, connect_timeout: int | None = None) -> list[str]:
    """Apply pending migrations to the database, unless this process already did.

    The one call a process makes where it starts; a later call (the flow's migrate step in a
    `wearable run`, `watch` or `schedule` process, the event API's lifespan after `wearable
    serve` migrated) returns [] without touching the database. Returns the names applied.
    Raises DatabaseUnavailableError or MigrationError (or psycopg's error for a statement
    outside the migrations themselves, e.g. a role that may not create the `ops` schema).
    """
    from wearable_pipeline.db.connection import connect

    if database_url in _MIGRATED_BY_THIS_PROCESS:
        return []
    with connect(database_url, connect_timeout=connect_timeout) as conn:
        applied = migrate(conn)
    _MIGRATED_BY_THIS_PROCESS.add(database_url)
    return applied


def applied_migrations(conn: psycopg.Connection) -> list[tuple[int, str, object]]:
    """(version, name, applied_at) of every applied migration, oldest first."""
    exists = conn.execute("select to_regclass('ops.schema_migrations')").fetchone()
    if not exists or exists[0] is None:
        return []
    return list(
        conn.execute("select version, name, applied_at from ops.schema_migrations order by 1")
    )
