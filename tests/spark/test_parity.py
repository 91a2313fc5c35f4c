"""The same dbt project on PostgreSQL and on Spark, from the same inputs, gives the same marts.

Inputs: every file of the real Fitbit export, a generated export's heart-rate and minute files
(2 users x 3 days), the Withings fixture exports (another vendor's daily activity, sleep periods
across a change to summer time and workouts, its values in JSON: German and English headers,
an empty duplicate workout row), a canonical file with values that do not parse
(bad numbers, impossible dates: PostgreSQL's casts would raise on them, Spark's return NULL,
and the staging macros make both NULL), events with a repeated event id and zones near
midnight, and, after a first round, a later load that replaces one day plus an event that
arrives late for an earlier day. Each round: PostgreSQL build, `wearable lake export`, Spark
build, then `daily_user_summary`, `participant_compliance` and the report marts
(`user_step_baseline`, `daily_steps_vs_baseline`, `source_volume_daily`) compared row by row.

Normalisation, explicitly: rows sorted by their key; lineage columns (dbt_write_id, dbt_*_at)
left out, being each engine's own bookkeeping; decimals compared as Decimal values (numeric
and decimal(p,s) alike); `as_of_date`/`days_since_last_data` (current_date, which may turn
between two builds) checked on each engine against last_data_date instead of across engines.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from wearable_pipeline.config import Settings
from wearable_pipeline.events.store import copy_events
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.lake.export import export_to_lake
from wearable_pipeline.synth import generate_csv_files
from wearable_pipeline.transform.dbt import DbtResult, run_dbt

from .conftest import spark_session

FIXTURES = Path(__file__).parents[1] / "fixtures"
FITBIT = FIXTURES / "fitbit"
# another vendor: single-user exports, one folder per user (withings-user, withings-en)
WITHINGS = FIXTURES / "withings"
LINEAGE = {"dbt_write_id", "dbt_updated_at", "dbt_loaded_at"}
CLOCK = {"as_of_date", "days_since_last_data"}
MARTS = {
    "daily_user_summary": ["user_id", "summary_date"],
    "participant_compliance": ["user_id"],
    "user_step_baseline": ["user_id"],
    "daily_steps_vs_baseline": ["user_id", "summary_date"],
    "source_volume_daily": ["source_format", "volume_date"],
}
# Values PostgreSQL cannot cast (each would raise) and Spark casts to NULL; then values both
# read. The staging macros must give NULL for the first kind on both engines.
HEADER = "user_id,date,steps,distance_km,very_active_minutes,sedentary_minutes,calories_kcal\n"
CANONICAL_ROUND_1 = (
    HEADER
    + """alice,2024-01-01,9000,6.3,20,700,2100
alice,2024-01-02,--,abc,1e1, 42 ,99999999999
alice,2024-02-30,100,1.0,0,0,0
alice,2024-01-03,12.6,1e-1,NaN,Infinity,-0
bob,2024-01-01,500,0.5,0,1440,1500
"""
)
CANONICAL_ROUND_2 = (
    HEADER
    + """alice,2024-01-01,9500,6.6,25,690,2150
"""
)


def _event(name: str, user: str | None, at: datetime, zone: str | None, **payload: Any) -> dict:
    event = {
        "schema_version": "1.0.0",
        "event_id": str(uuid.uuid4()),
        "event_name": name,
        "user_id": user,
        "anonymous_id": None if user else "anon-1",
        "session_id": f"s-{at:%d}",
        "device_id": "d-1",
        "client_ts": at.isoformat(),
        "source": "mobile",
        "environment": "prod",
        "payload": payload,
    }
    if zone:
        event["timezone"] = zone
    return event


def _events_round_1() -> list[dict]:
    day = datetime(2024, 1, 1, 22, 30, tzinfo=UTC)
    events = [
        _event("page_view", "alice", day, "Europe/Berlin", page_title="home"),  # 2 Jan there
        _event(
            "sync_completed",
            "alice",
            day - timedelta(hours=3),
            "America/New_York",
            vendor="fitbit",
            records_synced="120",
        ),
        _event("sync_failed", "bob", day, "Mars/Olympus_Mons", vendor="oura"),  # unknown: UTC
        _event("api_error", "bob", day + timedelta(hours=2), None, status_code="503"),
        _event("page_view", None, day - timedelta(hours=1), None),  # anonymous, then identified
        _event("identify", "bob", day, None),
    ]
    events[-1]["anonymous_id"] = "anon-1"
    return [*events, events[0]]  # the repeat is stored once


def _late_event() -> dict:
    """Received now, for a day weeks ago: it lands on its own local day."""
    return _event(
        "sync_completed",
        "alice",
        datetime(2023, 12, 30, 12, tzinfo=UTC),
        "Asia/Tokyo",
        vendor="fitbit",
        records_synced="5",
    )


def _ingest(url: str, folder: Path, drop_dir: Path | None = None) -> None:
    report = ingest_paths(url, [folder], drop_dir=drop_dir or folder.parent)
    assert all(f.status == "loaded" for f in report.files), report.to_dict()


def _add_events(url: str, events: Iterable[dict]) -> None:
    with psycopg.connect(url) as conn:
        copy_events(conn, events, batch_id=uuid.uuid4())


def _normalise(rows: Iterable[dict[str, Any]], key: list[str]) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        clean = {}
        for name, value in row.items():
            if name in LINEAGE or name in CLOCK:
                continue
            clean[name] = Decimal(str(value)) if isinstance(value, float) else value
        result.append(clean)
    return sorted(result, key=lambda r: tuple(str(r[k]) for k in key))


def _check_clock(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        if "as_of_date" in row:
            assert row["days_since_last_data"] == (row["as_of_date"] - row["last_data_date"]).days


def _postgres_rows(url: str, schema: str, table: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(f"select * from {schema}.{table}").fetchall()
    _check_clock(rows)
    return rows


def _spark_rows(schema: str, table: str) -> list[dict[str, Any]]:
    rows = [
        row.asDict() for row in spark_session().sql(f"select * from {schema}.{table}").collect()
    ]
    _check_clock(rows)
    return rows


def _assert_built(result: DbtResult) -> None:
    assert result.success, result.summary()
    assert not result.skipped, result.summary()


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("drop")


def _round(settings: Settings, pg_target: Path, spark_target: Path) -> tuple[DbtResult, DbtResult]:
    url = str(settings.database_url)
    postgres = run_dbt(["build"], settings, target_path=pg_target)
    _assert_built(postgres)
    assert settings.lake_dir
    export_to_lake(url, settings.lake_dir)
    spark = run_dbt(["build", "--target", "spark"], settings, target_path=spark_target)
    _assert_built(spark)
    return postgres, spark


def _assert_marts_equal(url: str) -> None:
    for table, key in MARTS.items():
        expected = _normalise(_postgres_rows(url, "marts", table), key)
        actual = _normalise(_spark_rows("marts", table), key)
        assert len(actual) == len(expected), table
        for pg_row, spark_row in zip(expected, actual, strict=True):
            assert spark_row == pg_row, (
                table,
                {k: (pg_row[k], spark_row.get(k)) for k in pg_row if pg_row[k] != spark_row.get(k)},
            )


# two PostgreSQL and two Spark builds: minutes, more on a busy machine
@pytest.mark.timeout(2400)
def test_marts_are_equal_on_postgres_and_spark(
    lake_settings: Settings, drop: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = str(lake_settings.database_url)
    pg_target = tmp_path_factory.mktemp("dbt-target-pg")
    spark_target = tmp_path_factory.mktemp("dbt-target-spark")

    fitbit = drop / "fitbit"
    fitbit.mkdir()
    for path in FITBIT.glob("*.csv"):
        (fitbit / path.name).write_bytes(path.read_bytes())
    (fitbit / "extra").mkdir()
    (fitbit / "extra" / "canonical_daily.csv").write_text(CANONICAL_ROUND_1, encoding="utf-8")
    # heart rate and minute files (the real export has none here): the intraday rollups,
    # wear and the resting heart rate on both engines
    generate_csv_files(
        fitbit / "generated", users=2, days=3, seed=11, include=["minute", "heartrate"]
    )
    _ingest(url, fitbit)
    withings = drop / "withings"
    shutil.copytree(WITHINGS, withings)
    _ingest(url, withings, drop_dir=withings)  # its sub-folders name the users
    _add_events(url, _events_round_1())

    postgres, spark = _round(lake_settings, pg_target, spark_target)
    assert spark.tests_passed + spark.tests_warned == postgres.tests_passed + postgres.tests_warned
    _assert_marts_equal(url)
    summary = _spark_rows("marts", "daily_user_summary")
    assert {(r["user_id"], r["summary_date"]) for r in summary} >= {
        ("alice", date(2024, 1, 2)),  # the Berlin page view
        ("bob", date(2024, 1, 1)),  # an unknown zone counts in UTC
    }
    assert {r["wear_basis"] for r in summary} >= {"heart_rate", "hourly_activity"}
    assert any(r["resting_heart_rate_bpm"] is not None for r in summary)
    withings_days = {r["summary_date"]: r for r in summary if r["user_id"] == "withings-user"}
    assert withings_days[date(2024, 2, 2)]["steps"] == 8100
    assert withings_days[date(2024, 2, 2)]["minutes_asleep"] == 450
    assert withings_days[date(2024, 2, 3)]["workouts"] == 1
    volume = {r["source_format"] for r in _spark_rows("marts", "source_volume_daily")}
    assert {"withings_sleep", "withings_activities", "analytics_events"} <= volume

    second = drop / "second"
    second.mkdir()
    (second / "canonical_daily.csv").write_text(CANONICAL_ROUND_2, encoding="utf-8")
    _ingest(url, second)
    _add_events(url, [_late_event()])
    _round(lake_settings, pg_target, spark_target)
    _assert_marts_equal(url)
    summary = {
        (r["user_id"], r["summary_date"]): r for r in _spark_rows("marts", "daily_user_summary")
    }
    assert summary[("alice", date(2024, 1, 1))]["steps"] == 9500, "the newer load wins"
    assert summary[("alice", date(2023, 12, 30))]["syncs_completed"] == 1, "the late event"


def test_values_that_do_not_parse_are_null_on_both_engines(lake_settings: Settings) -> None:
    """PostgreSQL raises on these casts and Spark returns NULL; the staging macros guard
    PostgreSQL's casts, so staging holds the same values (and the same parse errors) on both.
    Runs after the parity test in this module, on what it loaded."""
    url = str(lake_settings.database_url)
    with psycopg.connect(url) as conn:
        for bad in ("'--'::integer", "'2024-02-30'::date", "'99999999999'::integer"):
            with pytest.raises(psycopg.errors.DataError), conn.transaction():
                conn.execute(f"select {bad}")
    spark = spark_session()
    casts = spark.sql(
        "select cast('--' as int), cast('2024-02-30' as date), cast('99999999999' as int),"
        " to_date('13/45/2016', 'M/d/yyyy')"
    ).collect()[0]
    assert list(casts) == [None, None, None, None]

    columns = (
        "user_id, load_id, source_row_number, activity_date, steps, distance_km,"
        " very_active_minutes, sedentary_minutes, calories_kcal, parse_errors"
    )
    table = "staging.stg_canonical__daily_activity"
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cursor:
        expected = cursor.execute(f"select {columns} from {table}").fetchall()
    actual = [r.asDict() for r in spark.sql(f"select {columns} from {table}").collect()]
    key = ["load_id", "source_row_number"]
    assert _normalise(actual, key) == _normalise(expected, key)
    unparsed = {r["source_row_number"]: r for r in actual if r["parse_errors"]}
    assert unparsed[3]["steps"] is None and unparsed[3]["distance_km"] is None
    assert unparsed[3]["sedentary_minutes"] == 42  # ' 42 ' reads as a number on both
    assert unparsed[4]["activity_date"] is None  # 30 February


def test_other_vendor_staging_is_equal_on_both_engines(lake_settings: Settings) -> None:
    """The Withings staging tables row by row, on what the parity test loaded: JSON held as
    text (the activities' `Data`, the trackers' arrays) is read by jsonb on PostgreSQL and by
    from_json/get_json_object on Spark, which forgive more, so the Spark macros check the
    text first; times with offsets across a change to summer time."""
    url = str(lake_settings.database_url)
    key = ["load_id", "source_row_number"]
    for table in (
        "stg_withings__activities",
        "stg_withings__tracker_steps",
        "stg_withings__tracker_sleep_state",
        "stg_withings__sleep",
        "stg_withings__aggregates_steps",
    ):
        expected = _normalise(_postgres_rows(url, "staging", table), key)
        actual = _normalise(_spark_rows("staging", table), key)
        assert expected, table
        assert actual == expected, table
    steps = _spark_rows("staging", "stg_withings__tracker_steps")
    assert sorted((r["interval_count"], r["total_seconds"], r["value_sum"]) for r in steps) == [
        (3, 180, 120),  # [60,60,60] and [30,40,50]
        (3, 180, 210),  # [60,61,59] and [100,110,0]
    ]
