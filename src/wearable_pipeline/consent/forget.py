"""Removing a participant who withdraws consent: `wearable forget USER_ID`.

Research ethics boards and the GDPR require that a participant's data can be deleted; the
raw layer's append-only rule yields here, and only here. In one transaction this deletes the
participant's rows from every raw table (by the format's user column, or for single-user
files by their load's user-id hint), from the rows the loader rejected, from the events the
API accepted and rejected (with the anonymous events an `identify` tied to them), and from
every table dbt built (every table with a `user_id` column in the staging, intermediate and
marts schemas). It records who and when in ops.forgotten_participants - not the data - and
from then on the loader leaves the participant's rows out of new loads
(`ingest.loader`, unless `--include-forgotten`).

Events still arriving from the app for a forgotten participant are accepted as usual: the
app, not this pipeline, knows whether the person still uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from wearable_pipeline.ingest.formats import FORMATS, SourceFormat
from wearable_pipeline.ingest.naming import sql_safe_name

# The schemas dbt builds into (dbt/macros/generate_schema_name.sql uses them as they are).
DBT_SCHEMAS = ("staging", "intermediate", "marts")


@dataclass
class ForgetReport:
    """What `forget_participant` deleted (or, in a dry run, would delete), per table."""

    user_id: str
    rows: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    forgotten_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def forgotten_users(conn: psycopg.Connection) -> list[str]:
    """Every participant who has been forgotten."""
    return [
        row[0] for row in conn.execute("select distinct user_id from ops.forgotten_participants")
    ]


def forget_participant(
    conn: psycopg.Connection,
    user_id: str,
    *,
    requested_by: str,
    dry_run: bool = False,
    formats: Sequence[SourceFormat] = FORMATS,
) -> ForgetReport:
    """Delete every row of `user_id` (see the module docstring) and record the request.

    One transaction: it all happens or nothing does. `dry_run` counts the rows, deletes none
    and records nothing. Raises ValueError for an empty user id.
    """
    user_id = user_id.strip()
    if not user_id:
        raise ValueError("a user id is required")
    report = ForgetReport(user_id=user_id, dry_run=dry_run)
    with conn.transaction():
        for table, condition, params in _raw_conditions(user_id, formats):
            report.rows[table] = report.rows.get(table, 0) + _delete(conn, table, condition, params)
        for table, condition, params in _event_conditions(user_id):
            report.rows[table] = _delete(conn, table, condition, params)
        for schema, table in _dbt_tables(conn):
            report.rows[f"{schema}.{table}"] = _delete(
                conn, f"{schema}.{table}", sql.SQL("user_id = %s"), [user_id]
            )
        if dry_run:
            raise psycopg.Rollback()  # the counts, nothing deleted
        row = conn.execute(
            "insert into ops.forgotten_participants (user_id, requested_by, rows_deleted)"
            " values (%s, %s, %s) returning forgotten_at",
            [user_id, requested_by, Jsonb({k: v for k, v in report.rows.items() if v})],
        ).fetchone()
        report.forgotten_at = row[0] if row else None
    return report


def _delete(
    conn: psycopg.Connection, table: str, condition: sql.Composable, params: list[object]
) -> int:
    schema, name = table.split(".")
    statement = sql.SQL("delete from {} where {}").format(sql.Identifier(schema, name), condition)
    return conn.execute(statement, params).rowcount


def _raw_conditions(
    user_id: str, formats: Sequence[SourceFormat]
) -> list[tuple[str, sql.Composable, list[object]]]:
    """Per format: its raw table and which of its rows are the participant's."""
    conditions: list[tuple[str, sql.Composable, list[object]]] = []
    hinted = sql.SQL(
        "_load_id in (select load_id from ops.file_loads"
        " where source_format = %s and user_id_hint = %s)"
    )
    for fmt in formats:
        if fmt.user_id_column is None:
            conditions.append((fmt.qualified_table, hinted, [fmt.name, user_id]))
            continue
        column = sql.Identifier(sql_safe_name(fmt.user_id_column))
        # the user column, or a blank one in a load that --user-id gave the participant
        condition = sql.SQL(
            "_load_id in (select load_id from ops.file_loads where source_format = %s)"
            " and (trim({column}) = %s or (coalesce(trim({column}), '') = '' and {hinted}))"
        ).format(column=column, hinted=hinted)
        conditions.append((fmt.qualified_table, condition, [fmt.name, user_id, fmt.name, user_id]))
    # rejected lines: every line of the participant's single-user loads, and any line that
    # holds the id as a field (a rejected line cannot be parsed reliably: when in doubt, out)
    conditions.append(
        (
            "raw.rejected_rows",
            sql.SQL(
                "load_id in (select load_id from ops.file_loads where user_id_hint = %s)"
                " or position(',' || %s || ',' in ',' || raw_line || ',') > 0"
                " or position(',\"' || %s || '\",' in ',' || raw_line || ',') > 0"
            ),
            [user_id, user_id, user_id],
        )
    )
    return conditions


def _event_conditions(user_id: str) -> list[tuple[str, sql.Composable, list[object]]]:
    """Events sent by the participant, and anonymous ones an identify tied to them."""
    identified = sql.SQL(
        "(select anonymous_id from raw.raw_events where event_name = 'identify'"
        " and user_id = %s and anonymous_id is not null)"
    )
    return [
        (
            "raw.rejected_events",
            sql.SQL(
                "event ->> 'user_id' = %s"
                " or (event ->> 'user_id' is null and event ->> 'anonymous_id' in {})"
            ).format(identified),
            [user_id, user_id],
        ),
        # the identify events themselves go last, with the rest of the participant's events
        (
            "raw.raw_events",
            sql.SQL("user_id = %s or (user_id is null and anonymous_id in {})").format(identified),
            [user_id, user_id],
        ),
    ]


def _dbt_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Every table dbt built that has a user_id column (views follow their tables)."""
    return [
        (schema, table)
        for schema, table in conn.execute(
            "select c.table_schema, c.table_name from information_schema.columns c"
            " join information_schema.tables t using (table_schema, table_name)"
            " where c.column_name = 'user_id' and t.table_type = 'BASE TABLE'"
            " and c.table_schema = any(%s) order by 1, 2",
            [list(DBT_SCHEMAS)],
        )
    ]


def leave_out_forgotten(
    conn: psycopg.Connection, fmt: SourceFormat, load_id: int, user_id_hint: str | None
) -> int:
    """Delete the rows of forgotten participants from a load in progress (the loader calls
    it before the commit, unless told to include them); returns the raw rows left out."""
    forgotten = forgotten_users(conn)
    if not forgotten:
        return 0
    table = sql.Identifier("raw", fmt.target_table)
    if user_id_hint in forgotten or (fmt.user_id_column is None and user_id_hint is None):
        removed = conn.execute(
            sql.SQL("delete from {} where _load_id = %s").format(table), [load_id]
        ).rowcount
        conn.execute("delete from raw.rejected_rows where load_id = %s", [load_id])
        return removed
    if fmt.user_id_column is None:
        return 0
    column = sql.Identifier(sql_safe_name(fmt.user_id_column))
    removed = conn.execute(
        sql.SQL("delete from {} where _load_id = %s and trim({}) = any(%s)").format(table, column),
        [load_id, forgotten],
    ).rowcount
    for user_id in forgotten:
        conn.execute(
            "delete from raw.rejected_rows where load_id = %s"
            " and (position(',' || %s || ',' in ',' || raw_line || ',') > 0"
            " or position(',\"' || %s || '\",' in ',' || raw_line || ',') > 0)",
            [load_id, user_id, user_id],
        )
    return removed
