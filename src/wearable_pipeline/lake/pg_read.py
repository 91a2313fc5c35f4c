"""Reading a query's rows out of PostgreSQL as Arrow record batches, in bounded memory.

`COPY (query) TO STDOUT` in CSV streams the rows at COPY speed; pyarrow's streaming CSV
reader parses them in C++ a block at a time. Every value is quoted (FORCE_QUOTE *), so an
unquoted empty field is NULL and a quoted one is '' - the raw tables keep that difference.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from wearable_pipeline.lake.columns import Column

# CSV bytes per parsed block: ~64k heart-rate rows; memory is a few blocks at a time.
BLOCK_SIZE = 4 * 1024 * 1024


class _CopyStream(io.RawIOBase):
    """A readable binary stream over the chunks of a psycopg COPY TO STDOUT."""

    def __init__(self, chunks: Iterator[memoryview | bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def peek_any(self) -> bool:
        """Whether the COPY has any bytes at all (no rows: no reader, no batches)."""
        if not self._buffer:
            self._buffer = bytes(next(self._chunks, b""))
        return bool(self._buffer)

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = bytes(chunk)
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def copy_batches(
    conn: psycopg.Connection,
    columns: list[Column],
    from_where: sql.Composable,
    params: tuple[object, ...] = (),
) -> Iterator[pa.RecordBatch]:
    """Batches of `select <columns> <from_where>`, typed as the columns' lake types.

    `from_where` is the statement after the select list (`from raw.t where _load_id = %s`).
    """
    select_list = sql.SQL(", ").join(column.copy_sql() for column in columns)
    query = sql.SQL("copy (select {} {}) to stdout (format csv, force_quote *)").format(
        select_list, from_where
    )
    names = [column.name for column in columns]
    with conn.cursor() as cursor, cursor.copy(query, params) as copy:
        stream = _CopyStream(iter(copy))
        if not stream.peek_any():
            return
        reader = pacsv.open_csv(
            io.BufferedReader(stream, buffer_size=BLOCK_SIZE),
            read_options=pacsv.ReadOptions(column_names=names, block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={column.name: column.lake_type.copy_arrow for column in columns},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
        for batch in reader:
            yield _finish_types(batch, columns)


def _finish_types(batch: pa.RecordBatch, columns: list[Column]) -> pa.RecordBatch:
    """Columns read as a stand-in type (epoch microseconds) cast to their lake type."""
    arrays = []
    for array, column in zip(batch.columns, columns, strict=True):
        target = column.lake_type.arrow
        arrays.append(array if array.type == target else pc.cast(array, target))
    return pa.RecordBatch.from_arrays(arrays, names=[column.name for column in columns])


def fetch_table(
    conn: psycopg.Connection, columns: list[Column], from_where: sql.Composable, params: tuple
) -> pa.Table:
    """A few rows (a manifest row) read through psycopg, every type included (arrays)."""
    select_list = sql.SQL(", ").join(sql.Identifier(column.name) for column in columns)
    rows = conn.execute(sql.SQL("select {} {}").format(select_list, from_where), params).fetchall()
    schema = pa.schema([column.field for column in columns])
    return pa.Table.from_pylist([dict(zip(schema.names, row, strict=True)) for row in rows], schema)
