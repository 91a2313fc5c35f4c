"""Fixtures for the orchestration tests: one resident Prefect server for the whole session.

Prefect reads its settings when first imported, and collecting the tests imports the flow, so
the session's server address is fixed here, at import: a private WEARABLE_HOME (whose
`prefect/` folder holds the server's state) and a free port. The server starts in the
background right away (its first start takes ~15 s, which the other test folders overlap),
`prefect_server` waits until it answers, and it stops when the session ends. Tests in this
process reach it through PREFECT_API_URL; the CLI processes they start can use it either that
way or as the resident server of `prefect_server.home`.

Pipeline runs parse the dbt project. dbt re-parses all of it when the connection changes, so
`fresh_database_url` here gives every test a fresh database under one name, and dbt's
artefacts go to one temporary folder (DBT_TARGET_PATH), never the project's dbt/target.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from wearable_pipeline.config import TELEMETRY_OFF, Settings
from wearable_pipeline.db.migrate import migrate
from wearable_pipeline.orchestration import prefect_server as resident
from wearable_pipeline.orchestration.shutdown import stop_everything


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_HOME = Path(tempfile.mkdtemp(prefix="wearable-test-prefect-"))
_PORT = _free_port()
_API_URL = f"http://127.0.0.1:{_PORT}/api"
os.environ.update(
    {
        **TELEMETRY_OFF,
        "PREFECT_HOME": str(resident.prefect_home(_HOME)),
        "PREFECT_API_URL": _API_URL,
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
        # scheduled runs are picked up within a second or two, not Prefect's default 10 s
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "DBT_TARGET_PATH": str(_HOME / "dbt-target"),
    }
)
resident.start(_HOME, port=_PORT)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the session's server even when no test asked for it.

    First deliver the logs and events of this process's flow runs still queued for it, which
    Prefect would otherwise try to send at exit, to a server gone by then.
    """
    if "prefect" in sys.modules:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogHandler

        APILogHandler().flush()
        EventsWorker.drain_all(timeout=10)
    # `wearable stop` for the session's home: its Prefect server and dbt worker, and the
    # embedded database that a `wearable` process given no DATABASE_URL (cli_env()) started
    settings = Settings(_env_file=None, home=_HOME, database_url=None, prefect_api_url=None)  # type: ignore[call-arg]
    stop_everything(settings)
    shutil.rmtree(_HOME, ignore_errors=True)


@dataclass(frozen=True)
class PrefectServer:
    home: Path  # a WEARABLE_HOME whose resident server this is
    api_url: str

    def cli_env(self, **extra: str) -> dict[str, str]:
        """Environment for a `wearable` process that finds this server as its resident one."""
        env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
        return {**env, "WEARABLE_HOME": str(self.home), **extra}


@pytest.fixture(scope="session")
def prefect_server() -> PrefectServer:
    api_url = resident.ensure_running(_HOME, port=_PORT)
    assert api_url == _API_URL
    return PrefectServer(_HOME, api_url)


_RUN_DATABASE = f"t_flow_runs_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def fresh_database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, migrated database for one test, named alike for every test (see above)."""
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(_RUN_DATABASE)))
    url = make_conninfo(**(conninfo_to_dict(pg_admin_url) | {"dbname": _RUN_DATABASE}))
    with psycopg.connect(url) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("drop database {} with (force)").format(sql.Identifier(_RUN_DATABASE))
        )
