"""The lake's catalog: every table's columns, so engines can declare the tables exactly.

Engines that read Parquet infer a table's columns from its files, which fails for a table
without files yet (no load of that format exported) and misses columns that only later
files have (schema evolution adds columns to raw tables). The catalog names them all, as
PostgreSQL has them at export time; the spark target's registration macro reads it
(dbt/macros/spark_lake.sql). A file lacking a column reads as NULL there.
"""

from __future__ import annotations

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from wearable_pipeline.lake.columns import table_columns
from wearable_pipeline.lake.layout import (
    EVENTS_PARTITION_KEY,
    EVENTS_TABLE,
    LOAD_PARTITION_KEY,
    Lake,
)
from wearable_pipeline.lake.parquet_files import write_table_atomically

CATALOG_SCHEMA = pa.schema(
    [
        ("table_schema", pa.string()),
        ("table_name", pa.string()),
        ("location", pa.string()),  # relative to the lake
        ("column_name", pa.string()),
        ("ordinal", pa.int32()),
        ("data_type", pa.string()),  # Spark SQL type
        ("is_partition_key", pa.bool_()),
    ]
)


def raw_load_tables(conn: psycopg.Connection) -> list[str]:
    """The raw tables written by file loads: every raw table with a `_load_id` column."""
    rows = conn.execute(
        "select table_name from information_schema.columns"
        " where table_schema = 'raw' and column_name = %s order by table_name",
        (LOAD_PARTITION_KEY,),
    ).fetchall()
    return [row[0] for row in rows]


def build_catalog(conn: psycopg.Connection, lake: Lake) -> pa.Table:
    """One row per column of every table the lake holds: raw load tables (partitioned by
    `_load_id`), raw_events (by `_write_id_from`), ops.file_loads."""
    rows: list[dict[str, object]] = []

    def add(schema: str, table: str, partition_key: str | None, skip: str | None) -> None:
        columns = [c for c in table_columns(conn, schema, table) if c.name != skip]
        for ordinal, column in enumerate(columns, start=1):
            rows.append(
                {
                    "table_schema": schema,
                    "table_name": table,
                    "location": lake.table_dir(schema, table),
                    "column_name": column.name,
                    "ordinal": ordinal,
                    "data_type": column.lake_type.spark,
                    "is_partition_key": False,
                }
            )
        if partition_key:
            rows.append(
                {
                    "table_schema": schema,
                    "table_name": table,
                    "location": lake.table_dir(schema, table),
                    "column_name": partition_key,
                    "ordinal": len(columns) + 1,
                    "data_type": "bigint",
                    "is_partition_key": True,
                }
            )

    for table in raw_load_tables(conn):
        add("raw", table, LOAD_PARTITION_KEY, skip=LOAD_PARTITION_KEY)
    add("raw", EVENTS_TABLE, EVENTS_PARTITION_KEY, skip=None)
    add("ops", "file_loads", None, skip=None)
    return pa.Table.from_pylist(rows, CATALOG_SCHEMA)


def write_catalog(conn: psycopg.Connection, lake: Lake) -> bool:
    """Write the catalog when it differs from the lake's; True when it was (re)written."""
    catalog = build_catalog(conn, lake)
    path = lake.catalog_file()
    if lake.fs.exists(path):
        with lake.fs.open(path, "rb") as handle:
            if pq.read_table(handle).equals(catalog):
                return False
    write_table_atomically(lake.fs, path, catalog)
    return True
