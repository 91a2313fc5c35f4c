"""Fixtures for the dbt tests, and the helpers behind them.

dbt runs are the slow part (seconds each), so each module here shares one database and as few
builds as possible, and asserts many things against them. The helpers are reached through the
`kit` fixture: with pytest's importlib mode (and a folder named like the `dbt` package, which
must never become importable as `dbt`) test modules cannot import from this folder.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from wearable_pipeline.config import Settings
from wearable_pipeline.ingest.naming import sql_safe_names
from wearable_pipeline.transform.dbt import DbtResult, run_dbt

FITBIT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "fitbit"
DAILY_ACTIVITY_CSV = FITBIT_FIXTURES / "dailyActivity_merged.csv"
SLEEP_CSV = FITBIT_FIXTURES / "sleepDay_merged.csv"


# The fixture files and where the loader puts them (DESIGN §4).
FIXTURE_FORMATS = {
    DAILY_ACTIVITY_CSV.name: ("fitbit_daily_activity", "daily_activity"),
    SLEEP_CSV.name: ("fitbit_sleep_day", "sleep"),
}


def load_csv_files(database_url: str, paths: Iterable[Path]) -> None:
    """Load the Fitbit fixture CSVs into their raw tables as the loader does.

    A stand-in for `ingest_paths` while the loader is being built: one ops.file_loads row
    with status 'loaded' per file, then every row as text under its SQL-safe column names
    with the lineage columns.
    """
    for path in paths:
        source_format, table = FIXTURE_FORMATS[path.name]
        _copy_csv(database_url, path, source_format=source_format, table=table)


def _copy_csv(database_url: str, path: Path, *, source_format: str, table: str) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, data = rows[0], [row for row in rows[1:] if row]
    columns = sql_safe_names(header)
    with psycopg.connect(database_url) as conn:
        load_id = conn.execute(
            "insert into ops.file_loads (path, file_name, size_bytes, sha256, source_format,"
            " target_table, status, rows_loaded, header, user_id_hint, finished_at)"
            " values (%s, %s, %s, %s, %s, %s, 'loaded', %s, %s, %s, now()) returning load_id",
            [
                str(path),
                path.name,
                path.stat().st_size,
                uuid.uuid4().hex,
                source_format,
                table,
                len(data),
                header,
                None,
            ],
        ).fetchone()[0]
        target = ", ".join([*columns, "_load_id", "_row_number", "_source_format", "_user_id_hint"])
        with conn.cursor().copy(f"copy raw.{table} ({target}) from stdin") as copy:
            for number, row in enumerate(data, start=1):
                copy.write_row([*row, load_id, number, source_format, None])
    return len(data)


def insert_raw_rows(database_url: str, table: str, rows: list[dict[str, Any]], fmt: str) -> int:
    """Append rows to raw.<table> as one new load (for injecting hand-made raw data)."""
    with psycopg.connect(database_url) as conn:
        load_id = conn.execute(
            "insert into ops.file_loads (path, file_name, size_bytes, sha256, source_format,"
            " target_table, status, rows_loaded, finished_at)"
            " values (%s, %s, 0, %s, %s, %s, 'loaded', %s, now()) returning load_id",
            [f"injected/{table}.csv", f"{table}.csv", uuid.uuid4().hex, fmt, table, len(rows)],
        ).fetchone()[0]
        for number, row in enumerate(rows, start=1):
            columns = [*row, "_load_id", "_row_number", "_source_format"]
            placeholders = ", ".join(["%s"] * len(columns))
            conn.execute(
                f"insert into raw.{table} ({', '.join(columns)}) values ({placeholders})",
                [*row.values(), load_id, number, fmt],
            )
    return load_id


def insert_events(database_url: str, events: Iterable[dict[str, Any]]) -> int:
    """Write events into raw.raw_events as the API stores accepted ones (repeats deduped).

    Returns the number of new rows. received_at is now(), as the API's default.
    """
    batch_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "create temporary table incoming (like raw.raw_events including defaults)"
            " on commit drop"
        )
        with conn.cursor().copy(
            "copy incoming (event_id, event_name, schema_version, user_id, anonymous_id,"
            " client_ts, batch_id, event) from stdin"
        ) as copy:
            for event in events:
                copy.write_row(
                    [
                        event["event_id"],
                        event["event_name"],
                        event["schema_version"],
                        event.get("user_id"),
                        event.get("anonymous_id"),
                        event.get("client_ts"),
                        batch_id,
                        orjson.dumps(event).decode(),
                    ]
                )
        inserted = conn.execute(
            "insert into raw.raw_events select * from incoming on conflict (event_id) do nothing"
        ).rowcount
    return inserted


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

    daily_activity_csv = DAILY_ACTIVITY_CSV
    sleep_csv = SLEEP_CSV

    def load_fitbit_csvs(self) -> None:
        load_csv_files(self.database_url, [DAILY_ACTIVITY_CSV, SLEEP_CSV])

    def insert_raw_rows(self, table: str, rows: list[dict[str, Any]], fmt: str) -> int:
        return insert_raw_rows(self.database_url, table, rows, fmt)

    def insert_events(self, events: Iterable[dict[str, Any]]) -> int:
        return insert_events(self.database_url, events)

    make_event = staticmethod(make_event)

    def dbt(self, *args: str) -> DbtResult:
        """Run dbt against the module's database, artefacts in the module's temporary folder."""
        return run_dbt(list(args), self.settings, target_path=self.target_path)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params or []).fetchall()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def kit(database_url: str, module_settings: Settings, dbt_target: Path) -> DbtTestKit:
    return DbtTestKit(database_url, module_settings, dbt_target)
