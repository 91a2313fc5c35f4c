"""Raw landing tables: created from the format registry, widened when a new column appears.

Every raw table has the data columns as `text` (lossless: nothing is parsed on the way in)
plus two lineage columns, which start with `_` so they can never collide with a data column:
the load and the file line. What is the same for every row of a load - its format, the user a
single-user file belongs to, when it was loaded - is kept once, in its ops.file_loads row: at
tens of millions of heart-rate samples a study, bytes per row are what decides the disk.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from wearable_pipeline.ingest.formats import formats_by_table

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_load_id", "bigint not null"),
    ("_row_number", "bigint not null"),
)


def existing_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """Columns of `raw.<table>` in table order; empty when the table does not exist."""
    return [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = %s order by ordinal_position",
            [table],
        )
    ]


def ensure_raw_table(conn: psycopg.Connection, table: str, columns: Iterable[str]) -> list[str]:
    """Create `raw.<table>` if missing and add any of `columns` (SQL-safe names) it lacks.

    Returns the columns that were added. No DDL runs when the table already has every column:
    DDL takes an exclusive lock on the table until the transaction ends, and this is called
    by every migrate and before every file. Added columns are nullable `text`, so earlier rows
    simply have NULL there (schema evolution).

    Called inside a file's load transaction, so a file that fails leaves the table as it was
    (DDL is transactional in PostgreSQL). When DDL is needed, an advisory lock on the table
    (held to the end of the caller's transaction) serialises it: a concurrent load that wants
    the same table or column waits, then sees it committed instead of colliding in the catalog.
    """
    wanted = list(dict.fromkeys(columns))
    existing = set(existing_columns(conn, table))
    if existing and existing.issuperset(wanted):
        return []
    with conn.transaction():
        conn.execute(
            "select pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"raw-table-ddl:{table}"]
        )
        existing = set(existing_columns(conn, table))  # what a concurrent load has committed
        added = [col for col in wanted if col not in existing]
        if not existing:
            lineage = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(definition))  # type: ignore[arg-type]
                for name, definition in LINEAGE_COLUMNS
            )
            conn.execute(
                sql.SQL("create table if not exists {} ({})").format(
                    sql.Identifier("raw", table), lineage
                )
            )
            # BRIN, not btree: load ids only grow in an append-only table, so a BRIN index
            # finds a load's rows at almost no cost to COPY (a btree added ~30% to a load).
            # dbt summarises the new pages before it reads them (macros/raw_load_indexes.sql).
            conn.execute(
                sql.SQL("create index if not exists {} on {} using brin (_load_id)").format(
                    sql.Identifier(load_id_index(table)), sql.Identifier("raw", table)
                )
            )
        for col in added:
            conn.execute(
                sql.SQL("alter table {} add column if not exists {} text").format(
                    sql.Identifier("raw", table), sql.Identifier(col)
                )
            )
    return added


def load_id_index(table: str) -> str:
    """The name of `raw.<table>`'s BRIN index on _load_id."""
    return f"{table}_load_id"


def ensure_registered_tables(conn: psycopg.Connection) -> None:
    """Every registered format's raw table, with the union of its formats' columns."""
    for table, formats in formats_by_table().items():
        columns = [col for fmt in formats for col in fmt.table_columns()]
        ensure_raw_table(conn, table, columns)
