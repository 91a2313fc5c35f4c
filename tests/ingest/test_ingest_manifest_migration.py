"""Migration 0004: manifest rows written before it take the new shape (an 'unrecognised'
status, skip notes in `message`), and the new shape is what the loader writes."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# The module, not the `migrate` function that wearable_pipeline.db re-exports under its name.
migrate_module = importlib.import_module("wearable_pipeline.db.migrate")


@pytest.fixture
def blank_url(pg_admin_url: str) -> Iterator[str]:
    """An empty database (no migrations applied)."""
    name = f"t_manifest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield make_conninfo(**{**conninfo_to_dict(pg_admin_url), "dbname": name})
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_0004_moves_earlier_rows_into_the_new_shape(
    blank_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = migrate_module.available_migrations()
    monkeypatch.setattr(
        migrate_module, "available_migrations", lambda: [m for m in every if m.version < 4]
    )
    with psycopg.connect(blank_url) as conn:
        migrate_module.migrate(conn)
        conn.execute(
            "insert into ops.file_loads (path, file_name, size_bytes, sha256, target_table,"
            " status, error) values"
            " ('/d/a.csv', 'a.csv', 1, 'a', 'sleep', 'skipped', 'same content already loaded'),"
            " ('/d/b.csv', 'b.csv', 1, 'b', null, 'skipped', 'header matches no known format'),"
            " ('/d/c.csv', 'c.csv', 1, 'c', 'sleep', 'rejected', 'header only')"
        )
    monkeypatch.undo()
    with psycopg.connect(blank_url) as conn:
        applied = migrate_module.migrate(conn)
        rows = conn.execute(
            "select file_name, status, error, message from ops.file_loads order by 1"
        ).fetchall()
        # The new shape is enforced: an unreadable file has no size or sha256.
        conn.execute(
            "insert into ops.file_loads (path, file_name, status, error)"
            " values ('/d/x.csv', 'x.csv', 'failed', 'cannot read the file')"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into ops.file_loads (path, file_name, status) values ('/', '', 'meh')"
            )
    assert "0004_file_load_outcomes" in applied
    assert rows == [
        ("a.csv", "skipped", None, "same content already loaded"),
        ("b.csv", "unrecognised", "header matches no known format", None),
        ("c.csv", "rejected", "header only", None),
    ]
