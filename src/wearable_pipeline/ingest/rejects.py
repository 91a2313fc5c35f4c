"""Rejected rows of the file being loaded, spooled until they can be copied to the database.

The connection is busy with the rows' COPY while rejects turn up, and they must commit in
the same transaction as the rows, so they wait in a spooled temporary file (memory up to
a few MiB, then disk): a file of nothing but bad rows still loads in bounded memory.
"""

from __future__ import annotations

import tempfile

import psycopg

from wearable_pipeline.ingest.rows import RejectedRow, copy_escape

_SPOOL_IN_MEMORY = 4 << 20
# Enough examples for a message; every rejected row is in raw.rejected_rows.
MAX_EXAMPLES = 5


class RejectSpool:
    """Collects rejected rows for one load as COPY lines for `raw.rejected_rows`."""

    def __init__(self, load_id: int) -> None:
        self.load_id = load_id
        self.count = 0
        self.examples: list[str] = []
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=_SPOOL_IN_MEMORY, mode="w+b"
        )

    def add(self, row: RejectedRow) -> None:
        raw_bytes = "\\N" if row.raw_bytes is None else "\\\\x" + row.raw_bytes.hex()
        line = (
            f"{self.load_id}\t{row.line_number}\t{copy_escape(row.raw_line)}\t{raw_bytes}"
            f"\t{copy_escape(row.reason)}\n"
        )
        self._file.write(line.encode())
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"line {row.line_number}: {row.reason}")

    def copy_into(self, conn: psycopg.Connection) -> None:
        """COPY the spooled rows into raw.rejected_rows (in the caller's transaction)."""
        if not self.count:
            return
        self._file.seek(0)
        with conn.cursor().copy(
            "copy raw.rejected_rows (load_id, line_number, raw_line, raw_bytes, reason) from stdin"
        ) as copy:
            while chunk := self._file.read(1 << 20):
                copy.write(chunk)

    def close(self) -> None:
        self._file.close()
