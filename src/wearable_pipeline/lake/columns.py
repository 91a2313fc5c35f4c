"""PostgreSQL columns as lake columns: the Arrow type a value is written as, the Spark type
engines declare, and the SQL that reads it out of PostgreSQL without losing anything.

Raw tables are text (the values exactly as the file had them, '' distinct from NULL) plus
bigint lineage; events add uuid, jsonb and timestamptz; ops.file_loads a text[] and a
double. Timestamps travel as microseconds since the epoch (exact; PostgreSQL keeps
microseconds) and are written as UTC instants.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pyarrow as pa
from psycopg import sql


@dataclass(frozen=True)
class LakeType:
    """How one PostgreSQL type goes to the lake."""

    arrow: pa.DataType  # as written to Parquet
    spark: str  # as declared by the spark target's external tables
    copy_arrow: pa.DataType  # as read from COPY … csv (before the final cast)
    copy_expression: str  # SQL reading the column, `{}` is the quoted column name


_TEXT = LakeType(pa.string(), "string", pa.string(), "{}")
_TYPES: dict[str, LakeType] = {
    "text": _TEXT,
    "character varying": _TEXT,
    "character": _TEXT,
    "uuid": LakeType(pa.string(), "string", pa.string(), "cast({} as text)"),
    "jsonb": LakeType(pa.string(), "string", pa.string(), "cast({} as text)"),
    "json": LakeType(pa.string(), "string", pa.string(), "cast({} as text)"),
    "bigint": LakeType(pa.int64(), "bigint", pa.int64(), "{}"),
    "integer": LakeType(pa.int32(), "int", pa.int32(), "{}"),
    "smallint": LakeType(pa.int16(), "smallint", pa.int16(), "{}"),
    "boolean": LakeType(pa.bool_(), "boolean", pa.bool_(), "{}"),
    # PostgreSQL 12+ prints the shortest text that reads back to the same double
    "double precision": LakeType(pa.float64(), "double", pa.float64(), "{}"),
    "timestamp with time zone": LakeType(
        pa.timestamp("us", tz="UTC"),
        "timestamp",
        pa.int64(),
        "cast(extract(epoch from {}) * 1000000 as bigint)",
    ),
    "date": LakeType(pa.date32(), "date", pa.int32(), "({} - date '1970-01-01')"),
}
# Arrays only in small tables read row by row (ops.file_loads.header), not through COPY.
_ARRAYS: dict[str, LakeType] = {
    "_text": LakeType(pa.list_(pa.string()), "array<string>", pa.string(), ""),
}


class UnsupportedColumnError(TypeError):
    """A column whose type the lake export does not know how to write losslessly."""


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    lake_type: LakeType

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.lake_type.arrow)

    def copy_sql(self) -> sql.Composable:
        """The select-list entry reading the column for COPY, under its own name."""
        identifier = sql.Identifier(self.name)
        expression = self.lake_type.copy_expression
        if not expression:
            raise UnsupportedColumnError(f"{self.name} ({self.pg_type}) cannot go through COPY")
        return sql.SQL("{} as {}").format(sql.SQL(expression).format(identifier), identifier)


def table_columns(conn: psycopg.Connection, schema: str, table: str) -> list[Column]:
    """The table's columns in order, with their lake types.

    Raises UnsupportedColumnError naming the table and column for a type without a lossless
    mapping (so a new column type fails the export loudly instead of being dropped).
    """
    rows = conn.execute(
        "select column_name, data_type, udt_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    ).fetchall()
    if not rows:
        raise LookupError(f"table {schema}.{table} does not exist")
    columns = []
    for name, data_type, udt_name in rows:
        lake_type = _ARRAYS.get(udt_name) if data_type == "ARRAY" else _TYPES.get(data_type)
        if lake_type is None:
            raise UnsupportedColumnError(
                f"{schema}.{table}.{name}: type {data_type} ({udt_name}) has no lake mapping"
            )
        columns.append(Column(name, data_type, lake_type))
    return columns


def arrow_schema(columns: list[Column]) -> pa.Schema:
    return pa.schema([column.field for column in columns])
