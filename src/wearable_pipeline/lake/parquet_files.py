"""Writing one Parquet file so that it appears whole or not at all.

Readers (Spark, pyarrow, DuckDB) list a partition's files; a file they can see must be
complete. The rows are streamed into a temporary name that readers skip (a leading `.`),
then moved to the final name in one step:
- on a local or POSIX file system, a rename: atomic, and it replaces an earlier file of the
  same name atomically too (a rerun after a kill rewrites the partition it had finished);
- on object stores (S3, GCS, Azure) there is no rename: fsspec's move is a server-side copy
  of the one object and a delete of the temporary. A single object is created atomically
  (readers see all of it or nothing), and each partition is exactly one object, so a
  partition still appears whole; the copy costs one server-side transfer per file.
A temporary left by a killed export is removed by the next export (export.py, under its lock).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from wearable_pipeline.lake.layout import TEMPORARY_PREFIX

# Row groups of this many rows bound a reader's memory per column chunk; Spark splits
# work by row group.
ROW_GROUP_ROWS = 256 * 1024
COMPRESSION = "zstd"


@dataclass(frozen=True)
class WrittenFile:
    path: str
    rows: int
    bytes: int


def temporary_name(path: str) -> str:
    folder, name = path.rsplit("/", 1)
    return f"{folder}/{TEMPORARY_PREFIX}{name}.{uuid.uuid4().hex}.tmp"


def write_atomically(
    fs: Any, path: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
) -> WrittenFile:
    """Stream `batches` into a Parquet file at `path` that readers only ever see complete.

    Memory stays bounded by one batch plus one row group. Raises whatever the file system or
    pyarrow raise; the temporary is removed then (a kill leaves it for the next export).
    """
    folder = path.rsplit("/", 1)[0]
    fs.makedirs(folder, exist_ok=True)
    temporary = temporary_name(path)
    rows = 0
    try:
        with (
            fs.open(temporary, "wb") as handle,
            pq.ParquetWriter(handle, schema, compression=COMPRESSION) as writer,
        ):
            for batch in batches:
                if batch.num_rows:
                    writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
                    rows += batch.num_rows
        fs.mv(temporary, path)
    except BaseException:
        if fs.exists(temporary):
            fs.rm(temporary)
        raise
    return WrittenFile(path=path, rows=rows, bytes=int(fs.size(path)))


def write_table_atomically(fs: Any, path: str, table: pa.Table) -> WrittenFile:
    """A small table (a manifest row, the catalog) as one Parquet file, atomically."""
    return write_atomically(fs, path, table.schema, table.to_batches())
