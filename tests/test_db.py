"""The database foundation: migrations, connection parts, the embedded server."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typer.testing import CliRunner

from wearable_pipeline.cli import app
from wearable_pipeline.db import embedded
from wearable_pipeline.db.connection import (
    DatabaseUnavailableError,
    connect,
    connection_parts,
    redact,
)
from wearable_pipeline.db.migrate import available_migrations, migrate, migrate_once


def test_migrations_are_numbered_and_unique() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == sorted(versions)
    assert len(versions) == len(set(versions)) >= 3


def test_migrate_creates_schemas_and_is_idempotent(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert migrate(conn) == []  # the fixture already migrated: nothing left to apply
        tables = {
            f"{schema}.{name}"
            for schema, name in conn.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema in ('raw', 'ops')"
            )
        }
    assert {
        "ops.schema_migrations",
        "ops.file_loads",
        "ops.ingest_batches",
        "ops.pipeline_runs",
        "raw.rejected_rows",
        "raw.raw_events",
        "raw.rejected_events",
        "raw.daily_activity",
        "raw.sleep",
    } <= tables


def test_migrate_once_migrates_a_database_once_per_process(pg_admin_url: str) -> None:
    """The process's first call migrates; later ones (the flow's step) do not touch it."""
    name = f"t_once_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    parts = conninfo_to_dict(pg_admin_url) | {"dbname": name}
    url = make_conninfo(**parts)
    try:
        assert migrate_once(url) == [m.name for m in available_migrations()]
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
    assert migrate_once(url) == []  # no connection attempted: the database is gone


def test_registered_raw_tables_have_every_format_column(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        columns = {
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'raw' and table_name = 'daily_activity'"
            )
        }
    expected = {"_load_id", "_row_number", "total_steps", "steps", "user_id"}
    assert expected <= columns
    # what a whole load shares is in its manifest row, not on every row
    assert not {"_source_format", "_user_id_hint", "_loaded_at"} & columns


def test_connection_parts_from_socket_url() -> None:
    parts = connection_parts("postgresql://postgres:@/wearable?host=/tmp/pg")
    assert (parts.host, parts.port, parts.user) == ("/tmp/pg", 5432, "postgres")
    assert parts.dbname == "wearable"
    assert parts.as_env()["WEARABLE_DB_HOST"] == "/tmp/pg"


def test_redact_hides_password() -> None:
    assert "secret" not in redact("postgresql://me:secret@db:6543/app")
    assert redact("postgresql://me:secret@db:6543/app") == "postgresql://me@db:6543/app"


def test_unreachable_database_names_the_target() -> None:
    with pytest.raises(DatabaseUnavailableError, match=r"127\.0\.0\.1:1/nowhere"):
        connect("postgresql://u:p@127.0.0.1:1/nowhere", connect_timeout=2)


def test_embedded_status_of_an_empty_home(tmp_path) -> None:
    state = embedded.status(tmp_path)
    assert not state.initialised and not state.running


def test_cli_db_status_and_env(cli_env) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert "DATABASE_URL" in result.output and "0001_schemas_and_file_manifest" in result.output
    env_result = runner.invoke(app, ["db", "env"])
    assert env_result.exit_code == 0
    assert "export WEARABLE_DB_NAME=" in env_result.output


def test_embedded_server_starts_is_reused_and_stops(tmp_path) -> None:
    home = tmp_path / "home"
    url = embedded.ensure_running(home)
    try:
        assert embedded.status(home).running
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_database()").fetchone() == ("wearable",)
        assert embedded.ensure_running(home) == url  # second call reuses the running server
    finally:
        assert embedded.stop(home)
    assert not embedded.status(home).running
    # Stopped from outside (`wearable db stop`) while this process lives on (`wearable
    # watch`): its next need starts the server again.
    try:
        assert embedded.ensure_running(home) == url
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        assert embedded.stop(home)


def test_cli_db_psql_runs_psql_on_the_database(cli_env) -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "wearable_pipeline.cli", "db", "psql", "-tAc", "select 40 + 2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "42"
