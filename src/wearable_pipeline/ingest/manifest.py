"""`ops.file_loads`: one row per file per run, and the guard that content loads only once.

A load runs in one transaction that first takes an advisory lock on (raw table, sha256),
then checks for an earlier `loaded` row, then inserts its own. A second run holding the same
content waits on the lock until the first commits (or dies, releasing it), then sees the
`loaded` row and skips. The partial unique index on (target_table, sha256) where
status = 'loaded' backs this up should anything bypass the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from wearable_pipeline.ingest.source import Fingerprint


def _text(value: str | None) -> str | None:
    """A value PostgreSQL text can hold: a NUL byte (from a header) shown as U+FFFD."""
    return value.replace("\x00", "\ufffd") if value else value


def _texts(values: list[str] | None) -> list[str | None] | None:
    return None if values is None else [_text(value) for value in values]


@dataclass(frozen=True)
class EarlierLoad:
    load_id: int
    path: str
    loaded_at: datetime


def lock_content(conn: psycopg.Connection, target_table: str, sha256: str) -> None:
    """Block until no other transaction is loading this content into this table.

    Held until the current transaction ends (commit, rollback, or the session dying).
    """
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{target_table}:{sha256}"]
    )


def earlier_load(conn: psycopg.Connection, target_table: str, sha256: str) -> EarlierLoad | None:
    """The committed load of this content into this table, if any."""
    row = conn.execute(
        "select load_id, path, finished_at from ops.file_loads"
        " where target_table = %s and sha256 = %s and status = 'loaded'",
        [target_table, sha256],
    ).fetchone()
    return EarlierLoad(*row) if row else None


def start_load(
    conn: psycopg.Connection,
    *,
    path: str,
    fingerprint: Fingerprint,
    source_format: str,
    target_table: str,
    header: list[str],
    user_id_hint: str | None,
) -> int:
    """Insert the manifest row of a load about to start; returns its load id.

    The row says `loaded` from the start because it is only ever seen committed together with
    the rows: if the load fails or the process dies, the transaction takes it away. Inserting
    it first makes the unique index reject a duplicate before any row is copied.
    """
    row = conn.execute(
        "insert into ops.file_loads"
        " (path, file_name, size_bytes, sha256, source_format, target_table, status, header,"
        "  user_id_hint)"
        " values (%s, %s, %s, %s, %s, %s, 'loaded', %s, %s) returning load_id",
        [
            path,
            path.rsplit("/", 1)[-1],
            fingerprint.size_bytes,
            fingerprint.sha256,
            source_format,
            target_table,
            _texts(header),
            user_id_hint,
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_load(
    conn: psycopg.Connection,
    load_id: int,
    *,
    rows_loaded: int,
    rows_rejected: int,
    rows_forgotten: int = 0,
    message: str | None = None,
) -> None:
    """Record the counts and timings of a load (and a note about it), just before its commit."""
    conn.execute(
        "update ops.file_loads set rows_loaded = %s, rows_rejected = %s, rows_forgotten = %s,"
        " message = %s,"
        " finished_at = clock_timestamp(),"
        " duration_ms = extract(epoch from clock_timestamp() - started_at) * 1000"
        " where load_id = %s",
        [rows_loaded, rows_rejected, rows_forgotten, _text(message), load_id],
    )


def record_outcome(
    conn: psycopg.Connection,
    *,
    path: str,
    fingerprint: Fingerprint | None,
    status: str,
    started_at: datetime,
    source_format: str | None = None,
    target_table: str | None = None,
    header: list[str] | None = None,
    user_id_hint: str | None = None,
    error: str | None = None,
    message: str | None = None,
) -> int:
    """Insert the manifest row of a file that did not load (skipped, unrecognised, rejected,
    failed).

    `error` says what went wrong (or why the file is not one of ours); `message` is a note
    about a file that is fine (a skip names the earlier load). `fingerprint` is None for a
    file that could not be read: its size and sha256 are unknown.
    """
    row = conn.execute(
        "insert into ops.file_loads"
        " (path, file_name, size_bytes, sha256, source_format, target_table, status, header,"
        "  user_id_hint, error, message, started_at, finished_at, duration_ms)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp(),"
        "  extract(epoch from clock_timestamp() - %s) * 1000)"
        " returning load_id",
        [
            path,
            path.rsplit("/", 1)[-1],
            fingerprint.size_bytes if fingerprint else None,
            fingerprint.sha256 if fingerprint else None,
            source_format,
            target_table,
            status,
            _texts(header),
            user_id_hint,
            _text(error),
            _text(message),
            started_at,
            started_at,
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])
