"""Where things live in a lake, for a folder or any fsspec URL.

    <lake>/raw/<table>/_load_id=<load id>/part-00000.parquet     one per file load
    <lake>/raw/raw_events/_write_id_from=<n>/part-00000.parquet  one per event export
    <lake>/ops/file_loads/load-<load id>.parquet                 the manifest row of each load
    <lake>/catalog/columns.parquet                               every table's columns

Partition folders are Hive-style (`key=value`), so Spark, DuckDB and pyarrow read the
partition key back as a column: `_load_id` is in the path, not in the file. Names starting
with `.` are temporaries that readers skip (parquet_files.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import fsspec

PART_FILE = "part-00000.parquet"
TEMPORARY_PREFIX = "."
EVENTS_TABLE = "raw_events"
LOAD_PARTITION_KEY = "_load_id"
EVENTS_PARTITION_KEY = "_write_id_from"


def normalise_lake_url(url: str) -> str:
    """The lake's identity: a local folder as an absolute path, a URL as given; no trailing /.

    The manifests in `ops` are keyed by it, so `./lake` and `/abs/lake` are the same lake.
    """
    url = url.strip()
    if not url:
        raise ValueError("the lake location is empty: set WEARABLE_LAKE_DIR or pass --lake")
    if "://" in url and not url.startswith("file://"):
        return url.rstrip("/")
    path = url.removeprefix("file://")
    return os.path.abspath(os.path.expanduser(path)).rstrip("/") or "/"


@dataclass(frozen=True)
class Lake:
    """A lake location with its filesystem (`fsspec`), and the paths of everything in it."""

    url: str
    fs: Any  # fsspec.AbstractFileSystem (untyped library)
    root: str

    @classmethod
    def open(cls, url: str, **storage_options: Any) -> Lake:
        """The lake at `url` (a folder, `s3://bucket/lake`, …); nothing is created yet."""
        url = normalise_lake_url(url)
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        return cls(url=url, fs=fs, root=root.rstrip("/"))

    @property
    def is_local(self) -> bool:
        protocol = self.fs.protocol
        protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
        return "file" in protocols or "local" in protocols

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def table_dir(self, schema: str, table: str) -> str:
        """Relative folder of a table: what the catalog records and engines register."""
        return f"{schema}/{table}"

    def load_file(self, table: str, load_id: int) -> str:
        return self.path(f"raw/{table}/{LOAD_PARTITION_KEY}={load_id}/{PART_FILE}")

    def events_file(self, write_id_from: int) -> str:
        return self.path(f"raw/{EVENTS_TABLE}/{EVENTS_PARTITION_KEY}={write_id_from}/{PART_FILE}")

    def file_load_row_file(self, load_id: int) -> str:
        return self.path(f"ops/file_loads/load-{load_id:012d}.parquet")

    def catalog_file(self) -> str:
        return self.path("catalog/columns.parquet")

    def temporaries(self) -> list[str]:
        """Every temporary file under the lake (left by an export that was killed)."""
        if not self.fs.exists(self.root):
            return []
        found = self.fs.find(self.root)
        return [
            path
            for path in found
            if path.rsplit("/", 1)[-1].startswith(TEMPORARY_PREFIX) and path.endswith(".tmp")
        ]
