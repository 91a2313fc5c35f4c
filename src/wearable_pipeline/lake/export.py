"""`wearable lake export`: every raw load and every event not in the lake yet, once each.

Per file load (the unit ingest commits, so it is complete once it is in ops.file_loads):
1. its raw rows → `raw/<table>/_load_id=<id>/part-00000.parquet` (parquet_files.py: the file
   appears whole or not at all);
2. its ops.file_loads row → `ops/file_loads/load-<id>.parquet`;
3. a row in ops.lake_exports, committed: from then on the load is never exported again.
A kill between 1 and 3 leaves complete files and no manifest row; the next export writes the
same load again, replacing those files atomically. Readers never see a partial partition.

Events: those written by transactions below the oldest one still running (their `_write_id`,
migration 0010) - all committed, and no later commit can get such an id - and at or above
the previous export's bound go to `raw/raw_events/_write_id_from=<bound>/`; the range is
then recorded in ops.lake_event_exports. A killed export is redone from the same bound into
the same file, with the same events and perhaps newer ones: again once each.

One export per lake at a time (an advisory lock on the lake's URL); the next one removes the
temporaries a killed one left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import psycopg
import pyarrow as pa
from psycopg import sql

from wearable_pipeline.db.connection import connect
from wearable_pipeline.lake.catalog import write_catalog
from wearable_pipeline.lake.columns import arrow_schema, table_columns
from wearable_pipeline.lake.layout import EVENTS_TABLE, LOAD_PARTITION_KEY, Lake
from wearable_pipeline.lake.parquet_files import write_atomically, write_table_atomically
from wearable_pipeline.lake.pg_read import copy_batches, fetch_table

log = logging.getLogger(__name__)

# Arbitrary but fixed: the first key of the advisory lock every exporter of a lake takes.
_EXPORT_LOCK_KEY = 727_010


@dataclass(frozen=True)
class LoadExport:
    load_id: int
    target_table: str
    rows: int
    bytes: int
    path: str | None


@dataclass(frozen=True)
class EventExport:
    write_id_from: int
    write_id_to: int
    rows: int
    bytes: int
    path: str


@dataclass
class ExportReport:
    """What one export wrote; empty lists when the lake was up to date."""

    lake: str
    loads: list[LoadExport] = field(default_factory=list)
    events: EventExport | None = None
    catalog_written: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(load.rows for load in self.loads) + (self.events.rows if self.events else 0)

    @property
    def bytes(self) -> int:
        return sum(load.bytes for load in self.loads) + (self.events.bytes if self.events else 0)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "lake": self.lake,
            "loads": [asdict(load) for load in self.loads],
            "events": asdict(self.events) if self.events else None,
            "catalog_written": self.catalog_written,
            "rows": self.rows,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


# Called with (description, rows done, rows expected) as an export advances.
ProgressCallback = Callable[[str, int, int], None]


def _no_progress(description: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class _PendingLoad:
    load_id: int
    target_table: str
    rows_loaded: int


def pending_loads(conn: psycopg.Connection, lake: Lake) -> list[_PendingLoad]:
    """Committed loads not in this lake yet, oldest first."""
    rows = conn.execute(
        """
        select loads.load_id, loads.target_table, loads.rows_loaded
        from ops.file_loads as loads
        where loads.status = 'loaded'
          and not exists (
            select 1 from ops.lake_exports as exported
            where exported.lake = %s and exported.load_id = loads.load_id
          )
        order by loads.load_id
        """,
        (lake.url,),
    ).fetchall()
    return [_PendingLoad(*row) for row in rows]


def _counting(batches: Iterator[pa.RecordBatch], report: Callable[[int], None]):
    done = 0
    for batch in batches:
        done += batch.num_rows
        report(done)
        yield batch


def export_load(
    conn: psycopg.Connection,
    lake: Lake,
    load: _PendingLoad,
    progress: ProgressCallback = _no_progress,
) -> LoadExport:
    """One load's raw rows and manifest row into the lake, then recorded (committed)."""
    table = load.target_table
    description = f"load {load.load_id} raw.{table}"
    columns = [c for c in table_columns(conn, "raw", table) if c.name != LOAD_PARTITION_KEY]
    path = lake.load_file(table, load.load_id)
    batches = copy_batches(
        conn,
        columns,
        sql.SQL("from {} where {} = %s").format(
            sql.Identifier("raw", table), sql.Identifier(LOAD_PARTITION_KEY)
        ),
        (load.load_id,),
    )
    batches = _counting(batches, lambda done: progress(description, done, load.rows_loaded))
    first = next(batches, None)
    rows = size = 0
    written_path: str | None = None
    if first is not None:
        written = write_atomically(lake.fs, path, arrow_schema(columns), _chain(first, batches))
        rows, size, written_path = written.rows, written.bytes, written.path
    elif lake.fs.exists(path):
        # every row went since a killed export wrote it (wearable forget): nothing to show
        lake.fs.rm(path)
    manifest_columns = table_columns(conn, "ops", "file_loads")
    manifest_row = fetch_table(
        conn, manifest_columns, sql.SQL("from ops.file_loads where load_id = %s"), (load.load_id,)
    )
    write_table_atomically(lake.fs, lake.file_load_row_file(load.load_id), manifest_row)
    conn.execute(
        "insert into ops.lake_exports"
        " (lake, load_id, target_table, rows_exported, bytes_written, path)"
        " values (%s, %s, %s, %s, %s, %s)",
        (lake.url, load.load_id, table, rows, size, written_path),
    )
    conn.commit()
    log.info(
        "exported load",
        extra={"lake": lake.url, "load_id": load.load_id, "table": table, "rows": rows},
    )
    return LoadExport(load.load_id, table, rows, size, written_path)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def export_events(
    conn: psycopg.Connection, lake: Lake, progress: ProgressCallback = _no_progress
) -> EventExport | None:
    """The events committed since the previous export of this lake; None when there are none.

    Runs in one repeatable-read transaction, so the bound it takes and the rows it reads come
    from the same snapshot.
    """
    conn.commit()
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with conn.transaction():
            bound = conn.execute(
                "select cast(cast(pg_snapshot_xmin(pg_current_snapshot()) as text) as bigint),"
                " (select coalesce(max(write_id_to), 0) from ops.lake_event_exports"
                "  where lake = %s)",
                (lake.url,),
            ).fetchone()
            assert bound is not None
            write_id_to, write_id_from = int(bound[0]), int(bound[1])
            if write_id_to <= write_id_from:
                return None
            columns = table_columns(conn, "raw", EVENTS_TABLE)
            path = lake.events_file(write_id_from)
            # from 0 the range also takes events written before _write_id existed (NULL)
            batches = copy_batches(
                conn,
                columns,
                sql.SQL(
                    "from raw.raw_events where (_write_id >= %s and _write_id < %s)"
                    " or (%s = 0 and _write_id is null)"
                ),
                (write_id_from, write_id_to, write_id_from),
            )
            batches = _counting(batches, lambda done: progress("events", done, 0))
            first = next(batches, None)
            if first is None:
                if lake.fs.exists(path):
                    lake.fs.rm(path)  # a killed export's events, all forgotten since
                return None
            written = write_atomically(lake.fs, path, arrow_schema(columns), _chain(first, batches))
            conn.execute(
                "insert into ops.lake_event_exports"
                " (lake, write_id_from, write_id_to, rows_exported, bytes_written, path)"
                " values (%s, %s, %s, %s, %s, %s)",
                (lake.url, write_id_from, write_id_to, written.rows, written.bytes, written.path),
            )
    finally:
        conn.isolation_level = None
    log.info("exported events", extra={"lake": lake.url, "rows": written.rows})
    return EventExport(write_id_from, write_id_to, written.rows, written.bytes, written.path)


def remove_temporaries(lake: Lake) -> int:
    """Delete temporaries a killed export left (only safe under the export lock)."""
    found = lake.temporaries()
    for path in found:
        lake.fs.rm(path)
    if found:
        log.info("removed temporaries of a killed export", extra={"count": len(found)})
    return len(found)


def export_to_lake(
    database_url: str,
    lake_url: str,
    *,
    progress: ProgressCallback = _no_progress,
    events: bool = True,
) -> ExportReport:
    """Export every load and event not in the lake at `lake_url` yet; see the module doc.

    Waits while another export of the same lake runs. Raises psycopg errors (database),
    OSError and fsspec errors (the lake), UnsupportedColumnError (a column type the lake
    cannot hold); whatever was recorded before the error stays exported, exactly once.
    """
    lake = Lake.open(lake_url)
    started = time.perf_counter()
    report = ExportReport(lake=lake.url)
    with connect(database_url, autocommit=True) as lock_conn, connect(database_url) as conn:
        lock_conn.execute("select pg_advisory_lock(%s, hashtext(%s))", (_EXPORT_LOCK_KEY, lake.url))
        try:
            remove_temporaries(lake)
            report.catalog_written = write_catalog(conn, lake)
            conn.commit()
            for load in pending_loads(conn, lake):
                conn.commit()
                report.loads.append(export_load(conn, lake, load, progress))
            if events:
                report.events = export_events(conn, lake, progress)
        finally:
            lock_conn.execute(
                "select pg_advisory_unlock(%s, hashtext(%s))", (_EXPORT_LOCK_KEY, lake.url)
            )
    report.seconds = time.perf_counter() - started
    return report
