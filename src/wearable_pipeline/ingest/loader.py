"""Loading CSV files into their raw tables: the one generic loader behind `wearable ingest`.

Per file: fingerprint (size, sha256) → recognise the header against the format registry →
check required columns and the user id → in one transaction: lock the content, skip it if
already loaded, insert the manifest row, add any new column to the raw table, COPY the rows
(streaming, block by block, hashing the bytes as they are read), check that the bytes read
are the fingerprinted ones (else roll back: the file changed while loading), COPY the
rejected rows, record the counts, commit.

A process killed mid-file leaves nothing of that file: the rows, the rejects and the
manifest row are in the same uncommitted transaction, which Postgres rolls back when the
connection drops. Memory is bounded by the block size, not the file size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import psycopg
from psycopg import sql

from wearable_pipeline.consent.forget import leave_out_forgotten
from wearable_pipeline.db.connection import connect
from wearable_pipeline.ingest import manifest
from wearable_pipeline.ingest.formats import (
    FORMATS,
    HeaderMatch,
    SourceFormat,
    describe_formats,
    match_header,
    unsupported_export,
)
from wearable_pipeline.ingest.paths import discover, display_path, user_id_hint
from wearable_pipeline.ingest.progress import FileProgress, ProgressBars
from wearable_pipeline.ingest.rejects import RejectSpool
from wearable_pipeline.ingest.report import FileResult, IngestReport
from wearable_pipeline.ingest.rows import COPY_DELIMITER, CopyEncoder
from wearable_pipeline.ingest.source import (
    Block,
    CsvSource,
    Fingerprint,
    SourceError,
    fingerprint,
    header_candidates,
    read_first_lines,
)
from wearable_pipeline.ingest.streaming import stream_into
from wearable_pipeline.ingest.tables import ensure_raw_table

log = logging.getLogger(__name__)

LINEAGE_COPY_COLUMNS = ("_row_number", "_load_id")


class FileRejected(Exception):
    """The file is unusable as a whole; the message names the line and the problem."""


class FileChanged(Exception):
    """The bytes loaded are not the ones fingerprinted: the file changed during the load."""


class _AlreadyLoaded(Exception):
    def __init__(self, earlier: manifest.EarlierLoad) -> None:
        super().__init__(f"same content already loaded as load {earlier.load_id} ({earlier.path})")
        self.earlier = earlier


class _Unrecognised(Exception):
    def __init__(self, message: str, header: list[str]) -> None:
        super().__init__(message)
        self.header = header


def ingest_paths(
    database_url: str,
    paths: Sequence[Path],
    *,
    drop_dir: Path,
    user_id: str | None = None,
    progress: bool = False,
    formats: Sequence[SourceFormat] = FORMATS,
    include_forgotten: bool = False,
) -> IngestReport:
    """Load every CSV file under `paths` (files or folders, walked recursively).

    drop_dir: the folder whose sub-folders name users of single-user exports.
    user_id:  the user of single-user exports (overrides the folder).
    progress: show a progress bar per file (on stderr; for terminals).
    formats:  the format registry (tests pass their own).
    include_forgotten: also load the rows of participants `wearable forget` removed (by
              default they are left out of every new load, and counted).

    Expects a migrated database. Never raises for a bad file: every problem is a FileResult
    with status and message; a path that does not exist is a `failed` result.
    """
    found = discover(paths)
    report = IngestReport()
    for missing in found.missing:
        report.files.append(
            FileResult(
                path=str(missing),
                status="failed",
                error="no such file or folder",
            )
        )
    with connect(database_url, autocommit=True) as conn, ProgressBars(progress) as bars:
        for path in found.files:
            result = ingest_file(
                conn,
                path,
                drop_dir=drop_dir,
                user_id=user_id,
                formats=formats,
                bars=bars,
                include_forgotten=include_forgotten,
            )
            report.files.append(result)
            log.info(
                "ingested file",
                extra={
                    "path": result.path,
                    "status": result.status,
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "load_id": result.load_id,
                },
            )
    return report


def ingest_file(
    conn: psycopg.Connection,
    path: Path,
    *,
    drop_dir: Path,
    user_id: str | None = None,
    formats: Sequence[SourceFormat] = FORMATS,
    bars: ProgressBars | None = None,
    include_forgotten: bool = False,
) -> FileResult:
    """Load one file on an autocommit connection; see the module docstring for the steps."""
    started = time.monotonic()
    started_at = datetime.now(UTC)
    shown = display_path(path)
    stored = str(Path(path).resolve())
    result = FileResult(path=shown, status="failed")
    fp: Fingerprint | None = None

    def record(status: str, text: str | None, **extra: object) -> None:
        """The outcome of a file that did not load: a skip's text is a note, others' an error."""
        result.status = status
        if status == "skipped":
            result.message = text
        else:
            result.error = text
        try:
            with conn.transaction():
                manifest.record_outcome(
                    conn,
                    path=stored,
                    fingerprint=fp,
                    status=status,
                    started_at=started_at,
                    source_format=result.source_format,
                    target_table=result.target_table,
                    user_id_hint=result.user_id_hint,
                    error=result.error,
                    message=result.message,
                    **extra,  # type: ignore[arg-type]
                )
        except psycopg.Error as exc:  # the database itself is the problem: say so, go on
            log.warning("could not record the file in ops.file_loads", extra={"error": str(exc)})

    known_non_csv = unsupported_export(path)
    if known_non_csv:  # reported, never read as CSV (and never hashed: it can be gigabytes)
        record("unrecognised", known_non_csv.message, header=None)
        result.duration_s = round(time.monotonic() - started, 3)
        return result

    try:
        fp = fingerprint(path)
    except OSError as exc:  # permission denied, a dangling link, gone since discovery, …
        record("failed", f"cannot read the file: {exc.strerror or exc}")
        result.duration_s = round(time.monotonic() - started, 3)
        return result
    result.sha256, result.size_bytes = fp.sha256, fp.size_bytes

    try:
        with CsvSource(path) as source:
            blocks = source.blocks()
            match, leftover = _recognise(source, blocks, formats, Path(path).name)
            fmt = match.format
            result.source_format, result.target_table = fmt.name, fmt.target_table
            result.user_id_hint = user_id_hint(
                path,
                drop_dir=drop_dir,
                user_id=user_id,
                has_user_column=fmt.user_id_column is not None,
            )
            _check_usable(match, result.user_id_hint)
            earlier = manifest.earlier_load(conn, fmt.target_table, fp.sha256)
            if earlier:
                raise _AlreadyLoaded(earlier)
            columns = fmt.raw_columns(match.header)
            with (bars or ProgressBars(False)).file(shown, fp.size_bytes) as bar:
                _load(
                    conn,
                    source,
                    chain([leftover], blocks),
                    match,
                    columns,
                    fp,
                    stored,
                    result,
                    bar,
                    include_forgotten=include_forgotten,
                )
    except _Unrecognised as exc:
        record("unrecognised", str(exc), header=exc.header)
    except (FileRejected, SourceError) as exc:
        record("rejected", str(exc))
    except FileChanged as exc:
        record("failed", str(exc))
    except _AlreadyLoaded as exc:
        record("skipped", str(exc), header=None)
        result.load_id = exc.earlier.load_id
    except psycopg.errors.UniqueViolation:
        # Another run committed the same content between our check and our insert.
        earlier = manifest.earlier_load(conn, str(result.target_table), fp.sha256)
        record(
            "skipped",
            f"same content already loaded as load {earlier.load_id if earlier else '?'}"
            " by a concurrent run",
        )
        result.load_id = earlier.load_id if earlier else None
    except (OSError, psycopg.Error) as exc:
        record("failed", f"{type(exc).__name__}: {str(exc).strip()}")
    finally:
        result.duration_s = round(time.monotonic() - started, 3)
    return result


def _recognise(
    source: CsvSource, blocks: Iterator[Block], formats: Sequence[SourceFormat], file_name: str
) -> tuple[HeaderMatch, Block]:
    """The file's format and header, and the already-read lines that follow the header.

    The file name is passed on for the few formats whose header alone is ambiguous.
    """
    lines = read_first_lines(blocks)
    candidates = header_candidates(lines)
    match = match_header(candidates, formats, file_name)
    if match is None:
        first = candidates.get(1) or next(iter(candidates.values()), [])
        shown = ", ".join(first[:8]) + (", …" if len(first) > 8 else "")
        raise _Unrecognised(
            f"line 1: header matches no known format ({shown}); "
            f"known formats: {describe_formats(formats)}",
            first,
        )
    leftover = Block(first_line=match.line_number + 1, data=b"".join(lines[match.line_number :]))
    return match, leftover


def _check_usable(match: HeaderMatch, hint: str | None) -> None:
    fmt = match.format
    missing = fmt.missing_required(match.header)
    if missing:
        raise FileRejected(
            f"line {match.line_number}: header lacks required column(s) "
            f"{', '.join(missing)} of format {fmt.name}"
        )
    if fmt.user_id_column is None and not hint:
        raise FileRejected(
            f"format {fmt.name} has no user-id column and the file's user is unknown: put it in "
            "a folder named after the user under the drop directory (data/<user>/…) "
            "or pass --user-id"
        )


def _load(
    conn: psycopg.Connection,
    source: CsvSource,
    blocks: Iterator[Block],
    match: HeaderMatch,
    columns: list[str],
    fp: Fingerprint,
    stored_path: str,
    result: FileResult,
    bar: FileProgress,
    *,
    include_forgotten: bool,
) -> None:
    """The load transaction of one recognised file."""
    fmt = match.format
    with conn.transaction():
        manifest.lock_content(conn, fmt.target_table, fp.sha256)
        earlier = manifest.earlier_load(conn, fmt.target_table, fp.sha256)
        if earlier:
            raise _AlreadyLoaded(earlier)  # a concurrent run loaded it while we waited
        load_id = manifest.start_load(
            conn,
            path=stored_path,
            fingerprint=fp,
            source_format=fmt.name,
            target_table=fmt.target_table,
            header=match.header,
            user_id_hint=result.user_id_hint,
        )
        # Inside the transaction: a file that fails does not leave the table widened.
        ensure_raw_table(conn, fmt.target_table, columns)
        spool = RejectSpool(load_id)
        try:
            encoder = CopyEncoder(
                field_count=len(columns),
                constants=(load_id,),
                on_reject=spool.add,
            )
            # The encoder puts the lineage values first on each line (see rows.py).
            statement = sql.SQL("copy {} ({}) from stdin (delimiter {})").format(
                sql.Identifier("raw", fmt.target_table),
                sql.SQL(", ").join(map(sql.Identifier, [*LINEAGE_COPY_COLUMNS, *columns])),
                sql.Literal(COPY_DELIMITER),
            )
            with conn.cursor() as cursor, cursor.copy(statement) as copy:
                stream_into(copy, encoder.encode(blocks), lambda: bar.update(source.position()))
            if source.fingerprint() != fp:
                # The lock, the duplicate check and the manifest row are all about `fp`.
                raise FileChanged("file changed while loading; retry")
            # A header without rows is a valid file of an export (a study where nobody
            # logged a weight): recorded as loaded, so a rerun skips it, with a note.
            if encoder.rows + encoder.rejected == 0:
                result.message = f"line {match.line_number}: header only, no data rows"
            spool.copy_into(conn)
            if not include_forgotten:
                result.rows_forgotten = leave_out_forgotten(conn, fmt, load_id, result.user_id_hint)
                if result.rows_forgotten:
                    result.message = (
                        f"{result.rows_forgotten:,} row(s) of forgotten participants left out"
                        " (wearable forget; --include-forgotten loads them)"
                    )
            manifest.finish_load(
                conn,
                load_id,
                rows_loaded=encoder.rows - result.rows_forgotten,
                rows_rejected=encoder.rejected,
                rows_forgotten=result.rows_forgotten,
                message=result.message,
            )
        finally:
            spool.close()
    result.status = "loaded"
    result.load_id = load_id
    result.rows_loaded = encoder.rows - result.rows_forgotten
    result.rows_rejected = encoder.rejected
    result.row_errors = spool.examples
