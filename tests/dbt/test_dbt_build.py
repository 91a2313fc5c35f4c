"""A real `dbt build` on the real Fitbit files plus generated events, then an incremental one.

One database and two builds for the whole module (dbt runs take seconds each): the first
build checks the counts, the per-user totals against the CSV files themselves, the typed
events and the engagement columns; then new loads and 1% more events arrive and the second,
incremental build must pick up exactly those, the newest load winning and the source
priority deciding between two sources for one day.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from wearable_pipeline.transform.dbt import DbtResult

FITBIT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "fitbit"
DAILY_ACTIVITY_CSV = FITBIT_FIXTURES / "dailyActivity_merged.csv"
SLEEP_CSV = FITBIT_FIXTURES / "sleepDay_merged.csv"

pytestmark = pytest.mark.slow

FITBIT_USER = "1503960366"
GENERATED = {"users": 20, "days": 14, "seed": 7}


def csv_totals() -> dict[str, dict[str, int]]:
    """Per-user steps and minutes asleep straight from the CSV files (exact duplicates once)."""
    with DAILY_ACTIVITY_CSV.open(newline="", encoding="utf-8-sig") as handle:
        activity = list(csv.DictReader(handle))
    with SLEEP_CSV.open(newline="", encoding="utf-8-sig") as handle:
        sleep_rows = {tuple(row.items()) for row in csv.DictReader(handle)}
    steps: Counter[str] = Counter()
    asleep: Counter[str] = Counter()
    for row in activity:
        steps[row["Id"]] += int(row["TotalSteps"])
    for items in sleep_rows:
        row = dict(items)
        asleep[row["Id"]] += int(row["TotalMinutesAsleep"])
    return {"steps": dict(steps), "asleep": dict(asleep)}


def generated_events(**kwargs: Any) -> list[dict[str, Any]]:
    from wearable_pipeline.events.generator import generate_events

    return list(generate_events(**kwargs))


def hand_made_events(make_event: Any) -> list[dict[str, Any]]:
    """Engagement on the Fitbit user's 2016-04-12, as seen from New York.

    02:30 UTC on the 13th is still the 12th in New York: the local date must win.
    """
    late_evening = datetime(2016, 4, 13, 2, 30, tzinfo=UTC)
    sync = {"vendor": "fitbit", "date_range": "day", "sync_status": "completed"}
    failed = {**sync, "sync_status": "failed", "error_code": "E1", "error_message": "timeout"}
    return [
        make_event(
            "sync_completed",
            {**sync, "records_synced": 42},
            user_id=FITBIT_USER,
            client_ts=late_evening,
            session_id="s-a",
            timezone="America/New_York",
        ),
        make_event(
            "sync_failed",
            failed,
            user_id=FITBIT_USER,
            client_ts=late_evening,
            session_id="s-a",
            timezone="America/New_York",
        ),
        make_event(
            "ui_error",
            {
                "component": "chart",
                "error_code": "E2",
                "error_message": "boom",
                "severity": "error",
            },
            user_id=FITBIT_USER,
            client_ts=late_evening,
            session_id="s-b",
            timezone="America/New_York",
        ),
    ]


@pytest.fixture(scope="module")
def first_build(kit: Any) -> DbtResult:
    kit.load_fitbit_csvs()
    events = generated_events(**GENERATED, duplicate_rate=0.02, invalid_rate=0.0)
    kit.insert_events(events + hand_made_events(kit.make_event))
    return kit.dbt("build")


@pytest.fixture(scope="module")
def summary_before(first_build: DbtResult, kit: Any) -> dict[tuple[str, date], Any]:
    rows = kit.query(
        "select user_id, summary_date, steps, dbt_updated_at from marts.daily_user_summary",
    )
    return {(r[0], r[1]): r for r in rows}


@pytest.fixture(scope="module")
def second_build(
    first_build: DbtResult, summary_before: dict[tuple[str, date], Any], kit: Any
) -> DbtResult:
    """New data after the first build: a corrected Fitbit load, a canonical source for a
    day that Fitbit also has, and 1% more events."""
    # a re-export correcting one day: the newer load must win
    kit.ingest_rows(
        "dailyActivity_reexport.csv",
        [
            {
                "id": FITBIT_USER,
                "activity_date": "4/13/2016",
                "total_steps": "11111",
                "total_distance": "7.0",
                "very_active_minutes": "21",
                "fairly_active_minutes": "19",
                "lightly_active_minutes": "217",
                "sedentary_minutes": "776",
                "calories": "1797",
            }
        ],
    )
    # a second source for a day Fitbit has: Fitbit's steps win, the canonical distance
    # fills the gap only where Fitbit has none (here it has one, so Fitbit wins too)
    kit.ingest_rows(
        "canonical_daily_activity.csv",
        [
            {
                "user_id": FITBIT_USER,
                "date": "2016-04-14",
                "steps": "99999",
                "distance_km": "70.0",
                "sedentary_minutes": "600",
                "calories_kcal": "3000",
            },
            {"user_id": "newcomer", "date": "2016-04-14", "steps": "1234"},
        ],
    )
    before = kit.query("select count(*) from raw.raw_events")[0][0]
    more = generated_events(users=5, days=2, seed=99)
    more = more[: max(1, before // 100)]
    kit.insert_events(more)
    return kit.dbt("build")


# -- the first build ---------------------------------------------------------------------------


def test_build_succeeds_with_every_test_green(first_build: DbtResult) -> None:
    assert first_build.success, first_build.summary()
    assert first_build.models_built == 4
    assert first_build.seeds_loaded == 1
    assert first_build.failed_tests == []
    unit_tests = [n for n in first_build.nodes if n.resource_type == "unit_test"]
    assert len(unit_tests) >= 6 and all(n.status == "pass" for n in unit_tests)
    assert first_build.tests_passed >= 60


def test_models_land_in_exactly_the_staging_and_marts_schemas(
    first_build: DbtResult, kit: Any
) -> None:
    rows = kit.query(
        "select table_schema, table_name from information_schema.tables"
        " where table_name in ('stg_daily_activity', 'stg_sleep', 'stg_events',"
        " 'source_priority', 'daily_user_summary')",
    )
    assert sorted(rows) == [
        ("marts", "daily_user_summary"),
        ("staging", "source_priority"),
        ("staging", "stg_daily_activity"),
        ("staging", "stg_events"),
        ("staging", "stg_sleep"),
    ]


def test_staging_counts_on_the_real_fitbit_files(first_build: DbtResult, kit: Any) -> None:
    activity = kit.query("select count(*), count(distinct user_id) from staging.stg_daily_activity")
    sleep = kit.query("select count(*), count(distinct user_id) from staging.stg_sleep")
    assert activity == [(940, 33)]
    assert sleep == [(410, 24)]  # 413 rows, 3 exact duplicates collapsed


def test_summary_totals_per_user_equal_the_csv_files(first_build: DbtResult, kit: Any) -> None:
    expected = csv_totals()
    rows = kit.query(
        "select user_id, sum(steps), sum(minutes_asleep) from marts.daily_user_summary"
        " where has_activity or has_sleep group by user_id",
    )
    steps = {user: int(total) for user, total, _ in rows if total is not None}
    asleep = {user: int(total) for user, _, total in rows if total is not None}
    assert steps == expected["steps"]
    assert asleep == expected["asleep"]


def test_not_worn_days_are_flagged(first_build: DbtResult, kit: Any) -> None:
    with DAILY_ACTIVITY_CSV.open(newline="", encoding="utf-8-sig") as handle:
        expected = sum(
            1
            for row in csv.DictReader(handle)
            if row["TotalSteps"] == "0" and row["SedentaryMinutes"] == "1440"
        )
    flagged = kit.query("select count(*) from marts.daily_user_summary where is_not_worn")
    assert flagged == [(expected,)]


def test_summary_has_one_row_per_user_day(first_build: DbtResult, kit: Any) -> None:
    duplicated = kit.query(
        "select user_id, summary_date from marts.daily_user_summary"
        " group by 1, 2 having count(*) > 1",
    )
    assert duplicated == []


def test_sleep_efficiency_and_dates_parsed(first_build: DbtResult, kit: Any) -> None:
    row = kit.query(
        "select minutes_asleep, minutes_in_bed, sleep_efficiency, sleep_records"
        " from marts.daily_user_summary where user_id = %s and summary_date = '2016-04-12'",
        [FITBIT_USER],
    )
    # sleepDay_merged.csv: 1503960366,4/12/2016 12:00:00 AM,1,327,346
    assert [tuple(map(float, r)) for r in row] == [(327, 346, round(327 / 346, 4), 1)]


def test_events_are_typed_deduplicated_and_localised(first_build: DbtResult, kit: Any) -> None:
    distinct_ids = kit.query("select count(distinct event_id) from raw.raw_events")
    assert kit.query("select count(*) from staging.stg_events") == distinct_ids
    synced = kit.query(
        "select records_synced, vendor, event_local_date, event_source, session_id"
        " from staging.stg_events where event_name = 'sync_completed' and user_id = %s",
        [FITBIT_USER],
    )
    assert synced == [(42, "fitbit", date(2016, 4, 12), "mobile", "s-a")]


def test_engagement_lands_on_the_local_date(first_build: DbtResult, kit: Any) -> None:
    row = kit.query(
        "select event_count, session_count, syncs_completed, syncs_failed, error_count,"
        " has_app_activity, steps from marts.daily_user_summary"
        " where user_id = %s and summary_date = '2016-04-12'",
        [FITBIT_USER],
    )
    assert row == [(3, 2, 1, 1, 1, True, 13162)]


def test_generated_users_have_engagement_rows(first_build: DbtResult, kit: Any) -> None:
    from wearable_pipeline.synth import synthetic_user_ids

    users = synthetic_user_ids(GENERATED["users"], GENERATED["seed"])
    rows = kit.query(
        "select count(distinct user_id), sum(event_count) from marts.daily_user_summary"
        " where user_id = any(%s)",
        [users],
    )
    identified = kit.query(
        "select count(*) from staging.stg_events where user_id = any(%s)",
        [users],
    )
    assert rows[0][0] > 0
    assert rows[0][1] == identified[0][0]


def test_summary_contract_types(first_build: DbtResult, kit: Any) -> None:
    types = dict(
        kit.query(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'daily_user_summary'",
        )
    )
    assert types["user_id"] == "text"
    assert types["summary_date"] == "date"
    assert types["steps"] == "integer"
    assert types["sleep_efficiency"] == "numeric"
    assert types["is_not_worn"] == "boolean"
    assert types["dbt_updated_at"] == "timestamp with time zone"


def test_built_tables_have_planner_statistics_at_once(first_build: DbtResult, kit: Any) -> None:
    """A table dbt (re)creates is analysed in the same build (analyze_if_rebuilt), so the
    next model, test and incremental run are not planned blind; incremental runs leave
    re-analysing to autovacuum."""
    analysed = {
        row[0]
        for row in kit.query(
            "select distinct tablename from pg_stats where schemaname in ('staging', 'marts')"
        )
    }
    assert {"stg_daily_activity", "stg_sleep", "stg_events", "daily_user_summary"} <= analysed


# -- the incremental build ---------------------------------------------------------------------


def test_incremental_build_succeeds(second_build: DbtResult) -> None:
    assert second_build.success, second_build.summary()
    assert second_build.failed_tests == []


def test_incremental_build_picks_up_new_events(second_build: DbtResult, kit: Any) -> None:
    raw = kit.query("select count(*) from raw.raw_events")
    assert kit.query("select count(*) from staging.stg_events") == raw


def test_newest_load_wins(second_build: DbtResult, kit: Any) -> None:
    steps = kit.query(
        "select steps from staging.stg_daily_activity"
        " where user_id = %s and activity_date = '2016-04-13'",
        [FITBIT_USER],
    )
    assert steps == [(11111,)]
    summary = kit.query(
        "select steps from marts.daily_user_summary"
        " where user_id = %s and summary_date = '2016-04-13'",
        [FITBIT_USER],
    )
    assert summary == [(11111,)]


def test_source_priority_picks_fitbit_without_double_counting(
    second_build: DbtResult, kit: Any
) -> None:
    rows = kit.query(
        "select steps, steps_source, calories_kcal, calories_source"
        " from marts.daily_user_summary where user_id = %s and summary_date = '2016-04-14'",
        [FITBIT_USER],
    )
    with DAILY_ACTIVITY_CSV.open(newline="", encoding="utf-8-sig") as handle:
        fitbit = next(
            row
            for row in csv.DictReader(handle)
            if row["Id"] == FITBIT_USER and row["ActivityDate"] == "4/14/2016"
        )
    assert rows == [
        (
            int(fitbit["TotalSteps"]),
            "fitbit_daily_activity",
            int(fitbit["Calories"]),
            "fitbit_daily_activity",
        )
    ]
    newcomer = kit.query(
        "select steps, steps_source from marts.daily_user_summary where user_id = 'newcomer'",
    )
    assert newcomer == [(1234, "canonical_daily_activity")]


def test_incremental_build_only_recomputes_changed_user_days(
    second_build: DbtResult, summary_before: dict[tuple[str, date], Any], kit: Any
) -> None:
    after = {
        (r[0], r[1]): r
        for r in kit.query(
            "select user_id, summary_date, steps, dbt_updated_at from marts.daily_user_summary",
        )
    }
    recomputed = {
        key
        for key, row in after.items()
        if key in summary_before and row[3] != summary_before[key][3]
    }
    assert (FITBIT_USER, date(2016, 4, 13)) in recomputed
    assert (FITBIT_USER, date(2016, 4, 14)) in recomputed
    # the Fitbit user-days nobody touched keep their first-build rows
    assert (FITBIT_USER, date(2016, 4, 20)) not in recomputed
    assert len(recomputed) < len(summary_before) / 10


def test_docs_generate_describes_every_model_and_column(second_build: DbtResult, kit: Any) -> None:
    result = kit.dbt("docs", "generate")
    assert result.success, result.summary()
    catalog = json.loads((kit.target_path / "catalog.json").read_text())
    manifest = json.loads((kit.target_path / "manifest.json").read_text())
    assert "model.wearable.daily_user_summary" in catalog["nodes"]
    undescribed = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        if not node["description"].strip():
            undescribed.append(unique_id)
        built = catalog["nodes"][unique_id]["columns"]
        for column in built:
            if not node["columns"].get(column, {}).get("description", "").strip():
                undescribed.append(f"{unique_id}.{column}")
    assert undescribed == []
