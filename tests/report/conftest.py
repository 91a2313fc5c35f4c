"""One small study, built once for every test of the report and its marts.

Five generated participants over three weeks (daily and hourly files, heart rate for two of
them on the first days), a pilot participant with two days in the canonical format and one
line that does not parse, a file that is rejected, generated events posted to the real event
API (duplicates and invalid ones included), and one quiet day: the hourly steps file lost
every row of 2024-01-15. Then one real `dbt build` (no unit tests: the dbt test module runs
them). The database is shared by the package's modules, so the mart checks, the HTML checks
and the browser test read the same build: built once per test process (scope "session"),
since xdist may run these files on one worker with other files between them, which would
end a package-scoped fixture and build it again. The mart tests, which add a late file, run
after the others (tests/conftest.py's START_ORDER).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from wearable_pipeline.config import Settings
from wearable_pipeline.db.migrate import migrate
from wearable_pipeline.transform.dbt import run_dbt

USERS, DAYS, SEED = 5, 21, 11
HEART_RATE_USERS, HEART_RATE_DAYS = 2, 3
QUIET_DATE = date(2024, 1, 15)
PILOT_USER = "pilot-01"
BAD_FIXTURES = Path(__file__).parent.parent / "fixtures" / "bad"


@dataclass
class Study:
    """The built study: its database, settings, the files it loaded and what was posted."""

    database_url: str
    settings: Settings
    export_dir: Path
    dbt_target: Path
    files: dict[str, Path] = field(default_factory=dict)
    events_posted: dict[str, int] = field(default_factory=dict)

    def query(self, query: str, params: list[object] | None = None) -> list[tuple]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params or []).fetchall()  # type: ignore[arg-type]

    def dbt(self, *args: str) -> None:
        """Run dbt on the study's database (its artefacts kept, so parsing is partial)."""
        result = run_dbt(list(args), self.settings, target_path=self.dbt_target)
        assert result.success, [(n.name, n.status, n.message) for n in result.nodes if n.failed]


def _create_database(admin_url: str) -> str:
    dbname = f"t_report_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    parts = conninfo_to_dict(admin_url)
    parts["dbname"] = dbname
    url = make_conninfo(**parts)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


def _drop_database(admin_url: str, url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(conninfo_to_dict(url)["dbname"])
            )
        )


def _without_date(path: Path, day: date) -> None:
    """Drop the data lines of `day` from a Fitbit file (M/D/YYYY dates): a quiet day."""
    stamp = re.compile(rf",{day.month}/{day.day}/{day.year}[ ,]")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not stamp.search(line)), encoding="utf-8")


def _write_pilot_files(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "pilot_daily.csv").write_text(
        "user_id,date,steps,distance_km,sedentary_minutes\n"
        f"{PILOT_USER},2024-01-19,4200,3.1,1000\n"
        "this line,has,too many,fields,for,the header\n"
        f"{PILOT_USER},2024-01-20,3900,2.8,1010\n",
        encoding="utf-8",
    )
    (folder / "activity_missing_columns.csv").write_bytes(
        (BAD_FIXTURES / "activity_missing_columns.csv").read_bytes()
    )


@pytest.fixture(scope="session")
def study(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    from wearable_pipeline.events.generator import generate_events, post_events
    from wearable_pipeline.events.server_process import EventApiProcess
    from wearable_pipeline.ingest.loader import ingest_paths
    from wearable_pipeline.synth import generate_csv_files

    url = _create_database(pg_admin_url)
    home = tmp_path_factory.mktemp("report-home")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        home=home,
        data_dir=home / "data",
    )
    export = home / "data" / "export"
    built = Study(url, settings, export, tmp_path_factory.mktemp("report-dbt-target"))
    for file in generate_csv_files(
        export / "daily", users=USERS, days=DAYS, seed=SEED, include=("daily", "hourly")
    ):
        built.files[file.source_format] = file.path
    for file in generate_csv_files(
        export / "heartrate",
        users=HEART_RATE_USERS,
        days=HEART_RATE_DAYS,
        seed=SEED,
        include=("heartrate",),
    ):
        built.files[file.source_format] = file.path
    _without_date(built.files["fitbit_hourly_steps"], QUIET_DATE)
    _write_pilot_files(export / "pilot")
    report = ingest_paths(url, [export], drop_dir=export)
    statuses = sorted(f.status for f in report.files)
    assert statuses.count("rejected") == 1 and statuses.count("loaded") == len(statuses) - 1
    with EventApiProcess(url, home / "logs" / "api.log") as api:
        built.events_posted = post_events(
            api.events_url,
            generate_events(
                users=USERS, days=DAYS, seed=SEED, duplicate_rate=0.03, invalid_rate=0.03
            ),
        )
    result = run_dbt(
        ["build", "--exclude-resource-type", "unit_test"],
        settings,
        target_path=built.dbt_target,
    )
    assert result.success, [(n.name, n.status, n.message) for n in result.nodes if n.failed]
    yield built
    _drop_database(pg_admin_url, url)
