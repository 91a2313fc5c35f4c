"""Fixtures for the dbt tests, and the helpers behind them.

dbt runs are the slow part (seconds each), so each module here shares one database and as few
builds as possible, and asserts many things against them. The helpers are reached through the
`kit` fixture: with pytest's importlib mode (and a folder named like the `dbt` package, which
must never become importable as `dbt`) test modules cannot import from this folder.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from wearable_pipeline.config import PROJECT_ROOT, Settings
from wearable_pipeline.events.store import copy_events
from wearable_pipeline.transform.dbt import DbtResult, run_dbt

FITBIT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "fitbit"
DAILY_ACTIVITY_CSV = FITBIT_FIXTURES / "dailyActivity_merged.csv"
SLEEP_CSV = FITBIT_FIXTURES / "sleepDay_merged.csv"


def load_csv_files(database_url: str, paths: Iterable[Path], *, drop_dir: Path) -> list[int]:
    """Load CSV files with the real loader (`wearable ingest`'s library function).

    Returns the load ids; fails the test when a file did not load.
    """
    from wearable_pipeline.ingest.loader import ingest_paths

    report = ingest_paths(database_url, list(paths), drop_dir=drop_dir)
    problems = [(f.path, f.status, f.error) for f in report.files if f.status != "loaded"]
    assert not problems, problems
    assert report.rows_rejected == 0, report.to_dict()
    return [f.load_id for f in report.files]


def write_csv(folder: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    """A CSV file with the rows' keys as header (SQL-safe names are valid headers too)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    header = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def insert_events(database_url: str, events: Iterable[dict[str, Any]]) -> int:
    """Write events into raw.raw_events as the API stores accepted ones (repeats deduped).

    Returns the number of new rows. received_at is now(), as the API's default.
    """
    with psycopg.connect(database_url) as conn:
        return copy_events(conn, events, batch_id=uuid.uuid4())


def fitbit_activity_row(user: str, day: str, steps: int | str) -> dict[str, str]:
    """One Fitbit daily-activity row (SQL-safe column names) with plausible other values."""
    return {
        "id": user,
        "activity_date": day,
        "total_steps": str(steps),
        "total_distance": "1.5",
        "very_active_minutes": "0",
        "fairly_active_minutes": "0",
        "lightly_active_minutes": "100",
        "sedentary_minutes": "1000",
        "calories": "1800",
    }


def make_event(
    name: str,
    payload: dict[str, Any],
    *,
    user_id: str | None,
    client_ts: datetime,
    session_id: str = "s-1",
    timezone: str | None = None,
) -> dict[str, Any]:
    """A valid v1 event (DESIGN §5) for hand-made scenarios."""
    event: dict[str, Any] = {
        "schema_version": "1.0.0",
        "event_id": str(uuid.uuid4()),
        "event_name": name,
        "user_id": user_id,
        "anonymous_id": None if user_id else str(uuid.uuid4()),
        "session_id": session_id,
        "device_id": "dev-1",
        "client_ts": client_ts.astimezone(UTC).isoformat(),
        "source": "mobile",
        "environment": "prod",
        "payload": payload,
    }
    if timezone:
        event["timezone"] = timezone
    return event


@pytest.fixture(scope="module")
def module_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the module's database (the shared `settings` fixture is per test)."""
    home = tmp_path_factory.mktemp("home")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        home=home,
        data_dir=home / "data",
    )


@pytest.fixture(scope="module")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private dbt target folder, so tests never touch dbt/target."""
    yield tmp_path_factory.mktemp("dbt-target")


@dataclass
class DbtTestKit:
    """One test module's database, settings and dbt target, with the helpers bound to them."""

    database_url: str
    settings: Settings
    target_path: Path

    drop_dir: Path

    def load_fitbit_csvs(self) -> None:
        """The real Fitbit daily-activity and sleep files, through the real loader."""
        load_csv_files(self.database_url, [DAILY_ACTIVITY_CSV, SLEEP_CSV], drop_dir=FITBIT_FIXTURES)

    def load_fitbit_export(self) -> None:
        """Every file of the real Fitbit export (daily, hourly, weight), through the loader."""
        load_csv_files(self.database_url, [FITBIT_FIXTURES], drop_dir=FITBIT_FIXTURES)

    def load_synthetic_export(self, *, users: int, days: int, seed: int) -> dict[str, Path]:
        """A generated whole Fitbit export (heart rate and minute files too), loaded; its files
        by source format."""
        from wearable_pipeline.synth import generate_csv_files

        folder = self.drop_dir / f"synthetic-{users}x{days}-{seed}"
        written = generate_csv_files(folder, users=users, days=days, seed=seed)
        load_csv_files(self.database_url, [folder], drop_dir=self.drop_dir)
        return {file.source_format: file.path for file in written}

    def ingest_rows(self, name: str, rows: list[dict[str, Any]]) -> int:
        """Write `rows` as a new CSV drop and ingest it: one new load; returns its id."""
        path = write_csv(self.drop_dir, name, rows)
        (load_id,) = load_csv_files(self.database_url, [path], drop_dir=self.drop_dir)
        return load_id

    def insert_events(self, events: Iterable[dict[str, Any]]) -> int:
        return insert_events(self.database_url, events)

    make_event = staticmethod(make_event)
    fitbit_activity_row = staticmethod(fitbit_activity_row)

    def dbt(self, *args: str) -> DbtResult:
        """Run dbt against the module's database, artefacts in the module's temporary folder."""
        return run_dbt(list(args), self.settings, target_path=self.target_path)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params or []).fetchall()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def kit(
    database_url: str,
    module_settings: Settings,
    dbt_target: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> DbtTestKit:
    return DbtTestKit(database_url, module_settings, dbt_target, tmp_path_factory.mktemp("drop"))


class ProjectCopy:
    """A private copy of dbt/ that a test may edit (a seed, a test's definition); dbt runs on
    it against the module's database, artefacts in the module's target folder."""

    def __init__(self, kit: DbtTestKit, folder: Path) -> None:
        self.kit = kit
        self.dir = folder / "dbt"
        shutil.copytree(
            PROJECT_ROOT / "dbt", self.dir, ignore=shutil.ignore_patterns("target", "logs")
        )

    def dbt(self, *args: str) -> DbtResult:
        return self.kit.dbt(*args, "--project-dir", str(self.dir), "--profiles-dir", str(self.dir))

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace `old` (which must be there) by `new` in one of the copy's files."""
        path = self.dir / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new))

    def compiled(self, relative: str) -> str:
        """The SQL dbt last ran for a node (`models/staging/x.yml/test_name.sql`)."""
        return (self.kit.target_path / "run" / "wearable" / relative).read_text()


@pytest.fixture(scope="module")
def project_copy(kit: DbtTestKit, tmp_path_factory: pytest.TempPathFactory) -> ProjectCopy:
    return ProjectCopy(kit, tmp_path_factory.mktemp("project"))
