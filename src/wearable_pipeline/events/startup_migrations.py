"""Applying the migrations when the API starts, and again until the database is reachable.

Each worker applies them in its lifespan (`db.migrate` takes an advisory lock, so workers
take turns and the later ones find nothing to do): once before serving when the database
answers, else in the background, retried with a doubling pause (tenacity) until it does.
Until then `/ready` and writes answer 503, so a service started on a fresh or unreachable
database never answers 500 for a missing table. Through `db.migrate.migrate_once`, so a
process that already migrated the database where it started (`wearable serve`, before
uvicorn) does not do it again.

Only a database that cannot be reached is retried. Anything else (a migration that fails, a
role that may not create the `ops` schema) will not mend by waiting: it is reported once and
writes answer 503 until someone fixes it and restarts the service.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import psycopg
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    wait_exponential,
)

from wearable_pipeline.db.connection import DatabaseUnavailableError
from wearable_pipeline.db.migrate import MigrationError, migrate_once

log = logging.getLogger(__name__)

# How long one connection attempt may take, and the retry pace while the database is
# unreachable (doubling from the first pause to the longest).
CONNECT_TIMEOUT_SECONDS = 3
FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 10.0


@dataclass
class SchemaState:
    """Whether this process has seen the migrations applied (writes wait for it)."""

    applied: bool = False
    failed: str | None = None  # a migration itself failed: needs a fix and a restart


class DatabaseUnreachableError(RuntimeError):
    """The database could not be reached (or went away while migrating): try again later."""


class MigrationsFailed(RuntimeError):
    """The migrations cannot be applied, and waiting will not mend it (a migration that
    fails, a role that may not create the `ops` schema); the message says why."""


def migrate_now(url: str, *, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> list[str]:
    """Apply pending migrations (once per process: `migrate_once`); the names applied.

    Sorts every failure into the two that callers act on: DatabaseUnreachableError (could
    not connect, or the connection went away: try again later) and MigrationsFailed.
    """
    try:
        return migrate_once(url, connect_timeout=connect_timeout)
    except DatabaseUnavailableError as exc:
        raise DatabaseUnreachableError(str(exc)) from exc
    except MigrationError as exc:
        if isinstance(exc.__cause__, psycopg.OperationalError):  # the connection went away
            raise DatabaseUnreachableError(f"database lost while migrating: {exc}") from exc
        raise MigrationsFailed(str(exc)) from exc
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachableError(str(exc).strip()) from exc
    except psycopg.Error as exc:
        raise MigrationsFailed(f"cannot apply the migrations: {str(exc).strip()}") from exc


def apply_migrations(url: str, schema: SchemaState) -> None:
    """Apply pending migrations and record the outcome in `schema`.

    Raises DatabaseUnreachableError when the database could not be reached (or the
    connection went away). Any other failure sets `schema.failed` and returns: no retry
    will mend it.
    """
    try:
        applied = migrate_now(url)
    except MigrationsFailed as exc:
        schema.failed = str(exc)
        log.error("migrations failed; writes answer 503 until fixed", extra={"error": str(exc)})
        return
    schema.applied = True
    if applied:
        log.info("applied migrations", extra={"migrations": applied})


async def migrate_at_startup(url: str, schema: SchemaState) -> asyncio.Task[None] | None:
    """Migrate now if the database answers; else return the task that keeps trying.

    The caller cancels the task when the app stops.
    """
    try:
        await asyncio.to_thread(apply_migrations, url, schema)
    except DatabaseUnreachableError as exc:
        log.warning(
            "database unreachable; migrations will be applied once it is back",
            extra={"error": str(exc)},
        )
        return asyncio.create_task(migrate_when_reachable(url, schema))
    return None


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    pause = state.next_action.sleep if state.next_action else 0.0
    log.info(
        "migrations: database still unreachable",
        extra={"attempt": state.attempt_number, "retry_in_s": pause, "error": str(error)},
    )


@retry(
    retry=retry_if_exception_type(DatabaseUnreachableError),
    wait=wait_exponential(multiplier=FIRST_PAUSE_SECONDS, max=LONGEST_PAUSE_SECONDS),
    before_sleep=_log_retry,
)
async def migrate_when_reachable(url: str, schema: SchemaState) -> None:
    """`apply_migrations` until it no longer finds the database unreachable (or is cancelled)."""
    await asyncio.to_thread(apply_migrations, url, schema)
