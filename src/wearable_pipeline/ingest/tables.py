"""Raw landing tables: created from the format registry, widened when a new column appears.

Every raw table has the data columns as `text` (lossless: nothing is parsed on the way in)
plus lineage columns, which start with `_` so they can never collide with a data column.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from wearable_pipeline.ingest.formats import formats_by_table
from wearable_pipeline.ingest.naming import sql_safe_name

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_load_id", "bigint not null references ops.file_loads (load_id)"),
    ("_row_number", "bigint not null"),
    ("_source_format", "text not null"),
    ("_user_id_hint", "text"),
    ("_loaded_at", "timestamptz not null default now()"),
)


def ensure_raw_table(conn: psycopg.Connection, table: str, columns: Iterable[str]) -> list[str]:
    """Create `raw.<table>` if missing and add any of `columns` (SQL-safe names) it lacks.

    Returns the columns that were added. Call inside the load's transaction: DDL is
    transactional in Postgres, so a failed load also leaves the table as it was.
    """
    wanted = list(dict.fromkeys(columns))
    lineage = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(definition))  # type: ignore[arg-type]
        for name, definition in LINEAGE_COLUMNS
    )
    conn.execute(
        sql.SQL("create table if not exists {} ({})").format(sql.Identifier("raw", table), lineage)
    )
    conn.execute(
        sql.SQL("create index if not exists {} on {} (_load_id)").format(
            sql.Identifier(f"{table}_load_id"), sql.Identifier("raw", table)
        )
    )
    existing = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = %s",
            [table],
        )
    }
    added = [col for col in wanted if col not in existing]
    for col in added:
        conn.execute(
            sql.SQL("alter table {} add column if not exists {} text").format(
                sql.Identifier("raw", table), sql.Identifier(col)
            )
        )
    return added


def ensure_registered_tables(conn: psycopg.Connection) -> None:
    """Every registered format's raw table, with the union of its formats' columns."""
    for table, formats in formats_by_table().items():
        columns = [sql_safe_name(col) for fmt in formats for col in fmt.columns]
        ensure_raw_table(conn, table, columns)
