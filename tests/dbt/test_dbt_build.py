"""A real `dbt build` on every file of the real Fitbit export, a generated export with heart
rate and minute files, and generated events; then an incremental build after new loads, which
must equal a full refresh.

One database and few builds for the whole module (dbt runs take seconds each): the first build
checks counts, per-user totals against the CSV files themselves, the intraday rollups against
values computed here in Python from the generated files, the typed events and the engagement
columns; then new loads and 1% more events arrive and the incremental build must pick up
exactly those, the newest load winning and the source priority deciding between sources.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from wearable_pipeline.ingest.formats import FORMATS
from wearable_pipeline.transform.dbt import DbtResult

FITBIT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "fitbit"
FITBIT_TIME = "%m/%d/%Y %I:%M:%S %p"

pytestmark = pytest.mark.slow

FITBIT_USER = "1503960366"
CENTS = Decimal("0.01")
GENERATED = {"users": 20, "days": 14, "seed": 7}
SYNTHETIC = {"users": 4, "days": 5, "seed": 5}  # both wear bases, nights without sleepDay


def read(name: str) -> list[dict[str, str]]:
    with (FITBIT_FIXTURES / name).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def csv_totals() -> dict[str, dict[str, int]]:
    """Per-user steps and minutes asleep straight from the CSV files (exact duplicates once)."""
    steps: Counter[str] = Counter()
    asleep: Counter[str] = Counter()
    for row in read("dailyActivity_merged.csv"):
        steps[row["Id"]] += int(row["TotalSteps"])
    for items in {tuple(row.items()) for row in read("sleepDay_merged.csv")}:
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
    error = {"component": "chart", "error_code": "E2", "error_message": "boom", "severity": "error"}
    common = {"user_id": FITBIT_USER, "client_ts": late_evening, "timezone": "America/New_York"}
    return [
        make_event("sync_completed", {**sync, "records_synced": 42}, session_id="s-a", **common),
        make_event("sync_failed", failed, session_id="s-a", **common),
        make_event("ui_error", error, session_id="s-b", **common),
    ]


def expected_wear(files: dict[str, Path]) -> dict[tuple[str, date], dict[str, Any]]:
    """Per synthetic user-day, computed from the generated files as RAPIDS defines data yield:
    heart rate where the day has samples, else minutes with steps or intensity."""
    samples: dict[tuple[str, date], list[int]] = defaultdict(list)
    minute_bpm: dict[tuple[str, date], dict[datetime, list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows_of(files["fitbit_heartrate_seconds"]):
        moment = datetime.strptime(row["Time"], FITBIT_TIME)
        key = (row["Id"], moment.date())
        samples[key].append(int(row["Value"]))
        minute_bpm[key][moment.replace(second=0)].append(int(row["Value"]))
    active: dict[tuple[str, date], set[datetime]] = defaultdict(set)
    steps = {}
    for row in rows_of(files["fitbit_minute_steps"]):
        moment = datetime.strptime(row["ActivityMinute"], FITBIT_TIME)
        steps[(row["Id"], moment)] = int(row["Steps"])
    for row in rows_of(files["fitbit_minute_intensities"]):
        moment = datetime.strptime(row["ActivityMinute"], FITBIT_TIME)
        active[(row["Id"], moment.date())]  # every day with minute data
        if int(row["Intensity"]) > 0 or steps[(row["Id"], moment)] > 0:
            active[(row["Id"], moment.date())].add(moment)

    def valid_hours(minutes: Any) -> int:
        per_hour = Counter(moment.hour for moment in minutes)
        return sum(1 for count in per_hour.values() if count >= 30)

    expected = {}
    for key, minutes in active.items():
        bpm = samples.get(key)
        if bpm:
            means = sorted(sum(values) / len(values) for values in minute_bpm[key].values())
            worn = minute_bpm[key].keys()
            expected[key] = {
                "wear_basis": "heart_rate",
                "mean": sum(bpm) / len(bpm),
                "min": min(bpm),
                "max": max(bpm),
                "resting": sum(means[:30]) / 30 if len(means) >= 60 else None,
                "valid_minutes": len(worn),
                "valid_hours": valid_hours(worn),
            }
        else:
            expected[key] = {
                "wear_basis": "minute_activity",
                "valid_minutes": len(minutes),
                "valid_hours": valid_hours(minutes),
            }
        expected[key]["is_valid_day"] = expected[key]["valid_hours"] >= 10
    return expected


@pytest.fixture(scope="module")
def synthetic(kit: Any) -> dict[str, Path]:
    return kit.load_synthetic_export(**SYNTHETIC)


def unsummarised_load_index_ranges(kit: Any) -> int:
    """Page ranges of the raw tables' `_load_id` BRIN indexes not yet summarised: counted by
    summarising them in a transaction that is rolled back, so nothing changes."""
    with psycopg.connect(kit.database_url) as conn:
        indexes = [
            row[0]
            for row in conn.execute(
                "select indexrelid::regclass::text from pg_index"
                " join pg_class on pg_class.oid = indexrelid"
                " join pg_am on pg_am.oid = pg_class.relam"
                " where pg_class.relnamespace = 'raw'::regnamespace and amname = 'brin'"
                " and pg_get_indexdef(indexrelid) like '%(_load_id)'"
            )
        ]
        ranges = sum(
            conn.execute("select brin_summarize_new_values(%s::regclass)", [index]).fetchone()[0]
            for index in indexes
        )
        conn.rollback()
    assert indexes, "no _load_id BRIN index in schema raw"
    return ranges


@pytest.fixture(scope="module")
def loaded_before_first_build(kit: Any, synthetic: dict[str, Path]) -> dict[str, int]:
    kit.load_fitbit_export()
    return {"unsummarised_ranges": unsummarised_load_index_ranges(kit)}


@pytest.fixture(scope="module")
def first_build(kit: Any, loaded_before_first_build: dict[str, int]) -> DbtResult:
    events = generated_events(**GENERATED, duplicate_rate=0.02, invalid_rate=0.0)
    kit.insert_events(events + hand_made_events(kit.make_event))
    return kit.dbt("build")


@pytest.fixture(scope="module")
def summary_before(first_build: DbtResult, kit: Any) -> dict[tuple[str, date], Any]:
    rows = kit.query(
        "select user_id, summary_date, steps, dbt_write_id from marts.daily_user_summary",
    )
    return {(r[0], r[1]): r for r in rows}


@pytest.fixture(scope="module")
def second_build(
    first_build: DbtResult,
    summary_before: dict[tuple[str, date], Any],
    synthetic: dict[str, Path],
    kit: Any,
) -> DbtResult:
    """New data after the first build: a corrected Fitbit day, a canonical source for a day
    that Fitbit also has, a re-exported heart-rate day, a new heart-rate day, 1% more events."""
    # a re-export correcting one day: the newer load must win
    corrected = kit.fitbit_activity_row(FITBIT_USER, "4/13/2016", "11111")
    kit.ingest_rows("dailyActivity_reexport.csv", [corrected])
    # a second source for a day Fitbit has: Fitbit's values win, nothing is added up
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
    # heart rate: one synthetic user's first day again with other values, and a day after
    # the export; both must replace or add exactly those days
    user = rows_of(synthetic["fitbit_heartrate_seconds"])[0]["Id"]
    kit.ingest_rows(
        "heartrate_seconds_more.csv",
        [
            {"Id": user, "Time": "1/1/2024 8:00:00 AM", "Value": "100"},
            {"Id": user, "Time": "1/1/2024 8:00:10 AM", "Value": "110"},
            {"Id": user, "Time": "1/9/2024 8:00:00 AM", "Value": "90"},
        ],
    )
    before = kit.query("select count(*) from raw.raw_events")[0][0]
    more = generated_events(users=5, days=2, seed=99)
    kit.insert_events(more[: max(1, before // 100)])
    # unit tests read no data: the first build ran (and asserts) them
    return kit.dbt("build", "--exclude-resource-type", "unit_test")


# -- the first build ---------------------------------------------------------------------------


def test_build_succeeds_with_every_test_green(first_build: DbtResult) -> None:
    assert first_build.success, first_build.summary()
    assert first_build.failed_tests == []
    assert first_build.models_built >= 30
    assert first_build.seeds_loaded == 1
    unit_tests = [n for n in first_build.nodes if n.resource_type == "unit_test"]
    assert len(unit_tests) >= 12 and all(n.status == "pass" for n in unit_tests)
    assert first_build.tests_passed >= 100


def test_every_registered_format_has_its_staging_model(first_build: DbtResult, kit: Any) -> None:
    manifest = json.loads((kit.target_path / "manifest.json").read_text())
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    missing = [fmt.name for fmt in FORMATS if fmt.staging_model not in models]
    assert missing == [], f"registered formats without a staging model: {missing}"
    for fmt in FORMATS:
        node = models[fmt.staging_model]
        assert f"source.wearable.raw.{fmt.target_table}" in node["depends_on"]["nodes"]
        assert node["original_file_path"].startswith(f"models/staging/{fmt.vendor}/")


def test_models_land_in_the_staging_intermediate_and_marts_schemas(
    first_build: DbtResult, kit: Any
) -> None:
    schemas = dict(
        kit.query(
            "select table_name, table_schema from information_schema.tables"
            " where table_schema in ('staging', 'intermediate', 'marts')",
        )
    )
    assert schemas["stg_daily_activity"] == schemas["stg_sleep"] == "staging"
    assert schemas["stg_events"] == schemas["stg_fitbit__hourly_steps"] == "staging"
    assert schemas["int_heart_rate_daily"] == "intermediate"
    assert schemas["daily_user_summary"] == schemas["participant_compliance"] == "marts"
    assert schemas["hourly_activity"] == "marts"


def test_staging_counts_on_the_real_fitbit_files(first_build: DbtResult, kit: Any) -> None:
    fitbit_users = [list(csv_totals()["steps"])]
    activity = dict(
        kit.query(
            "select source_format, count(*) from staging.stg_daily_activity"
            " where user_id = any(%s) group by 1",
            fitbit_users,
        )
    )
    assert activity == {
        "fitbit_daily_activity": 940,
        "fitbit_daily_steps": 940,
        "fitbit_daily_calories": 940,
        "fitbit_daily_intensities": 940,
    }
    sleep = kit.query(
        "select count(*), count(distinct user_id) from staging.stg_sleep where user_id = any(%s)",
        fitbit_users,
    )
    assert sleep == [(410, 24)]  # 413 rows, 3 exact duplicates collapsed


def test_summary_totals_per_user_equal_the_csv_files(first_build: DbtResult, kit: Any) -> None:
    expected = csv_totals()
    users = list(expected["steps"])
    rows = kit.query(
        "select user_id, sum(steps), sum(minutes_asleep) from marts.daily_user_summary"
        " where user_id = any(%s) group by user_id",
        [users],
    )
    steps = {user: int(total) for user, total, _ in rows if total is not None}
    asleep = {user: int(total) for user, _, total in rows if total is not None}
    assert steps == expected["steps"]
    assert asleep == expected["asleep"]


def test_hourly_sums_per_user_equal_the_files(first_build: DbtResult, kit: Any) -> None:
    expected: dict[str, Counter[str]] = defaultdict(Counter)
    for name, column, metric in (
        ("hourlySteps_merged.csv", "StepTotal", "steps"),
        ("hourlyCalories_merged.csv", "Calories", "calories"),
        ("hourlyIntensities_merged.csv", "TotalIntensity", "intensity"),
    ):
        for row in read(name):
            expected[row["Id"]][metric] += int(row[column])
    rows = kit.query(
        "select user_id, sum(steps), sum(calories_kcal), sum(total_intensity), count(*)"
        " from marts.hourly_activity where user_id = any(%s) group by user_id",
        [list(expected)],
    )
    got = {user: Counter(steps=s, calories=c, intensity=i) for user, s, c, i, _ in rows}
    assert got == expected
    assert sum(row[4] for row in rows) == 22_099


def test_hourly_and_daily_steps_stand_side_by_side(first_build: DbtResult, kit: Any) -> None:
    """Fitbit's own files disagree on 159 of 934 user-days; neither overwrites the other."""
    rows = kit.query(
        "select count(*), sum(case when hourly_steps <> steps then 1 else 0 end)"
        " from marts.daily_user_summary"
        " where hourly_steps is not null and steps is not null and user_id = any(%s)",
        [list(csv_totals()["steps"])],
    )
    assert rows == [(934, 159)]


def test_weight_rows_match_the_file(first_build: DbtResult, kit: Any) -> None:
    logs = read("weightLogInfo_merged.csv")
    stored = kit.query(
        "select user_id, log_id, weight_kg, bmi, is_manual_report, has_weight"
        " from intermediate.int_body_measurements where user_id = any(%s)",
        [list({row["Id"] for row in logs})],
    )
    assert sorted(stored) == sorted(
        (
            row["Id"],
            row["LogId"],
            Decimal(row["WeightKg"]).quantize(CENTS, ROUND_HALF_UP),
            Decimal(row["BMI"]).quantize(CENTS, ROUND_HALF_UP),
            row["IsManualReport"] == "True",
            True,
        )
        for row in logs
    )
    day = kit.query(
        "select weight_kg from marts.daily_user_summary"
        " where user_id = %s and summary_date = '2016-05-02'",
        [FITBIT_USER],
    )
    assert [float(w) for (w,) in day] == [52.6]


def test_intraday_rollups_equal_python_on_the_generated_files(
    first_build: DbtResult, synthetic: dict[str, Path], kit: Any
) -> None:
    expected = expected_wear(synthetic)
    rows = kit.query(
        "select user_id, summary_date, wear_basis, mean_heart_rate_bpm, min_heart_rate_bpm,"
        " max_heart_rate_bpm, resting_heart_rate_bpm, valid_minutes, valid_hours, is_valid_day"
        " from marts.daily_user_summary where (user_id, summary_date) in"
        " (select user_id, activity_date from intermediate.int_minute_activity_daily)"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    assert set(got) == set(expected)
    assert {e["wear_basis"] for e in expected.values()} == {"heart_rate", "minute_activity"}
    for key, want in expected.items():
        basis, mean, low, high, resting, minutes, hours, valid = got[key]
        assert (basis, minutes, hours, valid) == (
            want["wear_basis"],
            want["valid_minutes"],
            want["valid_hours"],
            want["is_valid_day"],
        ), key
        if basis == "heart_rate":
            assert (low, high) == (want["min"], want["max"]), key
            assert abs(float(mean) - want["mean"]) <= 0.05, key
            assert (resting is None) == (want["resting"] is None), key
            if resting is not None:
                assert abs(float(resting) - want["resting"]) <= 0.05, key
        else:
            assert (mean, low, high, resting) == (None, None, None, None), key


def test_minutes_asleep_come_from_minute_sleep_without_a_sleep_day_row(
    first_build: DbtResult, synthetic: dict[str, Path], kit: Any
) -> None:
    episodes: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for row in rows_of(synthetic["fitbit_minute_sleep"]):
        moment = datetime.strptime(row["date"], FITBIT_TIME)
        episodes[(row["Id"], row["logId"])].append((moment, row["value"]))
    asleep: Counter[tuple[str, date]] = Counter()
    for (user, _), minutes in episodes.items():
        wake_day = max(moment for moment, _ in minutes).date()
        asleep[(user, wake_day)] += sum(1 for _, state in minutes if state == "1")
    logged = {
        (row["Id"], datetime.strptime(row["SleepDay"], FITBIT_TIME).date())
        for row in rows_of(synthetic["fitbit_sleep_day"])
    }
    rows = kit.query(
        "select user_id, summary_date, minutes_asleep, sleep_source from marts.daily_user_summary"
        " where sleep_source is not null and user_id = any(%s)",
        [list({user for user, _ in asleep})],
    )
    assert rows
    for user, day, minutes, source in rows:
        assert source == ("fitbit_sleep_day" if (user, day) in logged else "fitbit_minute_sleep")
        assert minutes == asleep[(user, day)], (user, day)
    assert {source for *_, source in rows} == {"fitbit_sleep_day", "fitbit_minute_sleep"}


def test_not_worn_days_are_flagged(first_build: DbtResult, kit: Any) -> None:
    expected = sum(
        1
        for row in read("dailyActivity_merged.csv")
        if row["TotalSteps"] == "0" and row["SedentaryMinutes"] == "1440"
    )
    flagged = kit.query(
        "select count(*) from marts.daily_user_summary where is_not_worn and user_id = any(%s)",
        [list(csv_totals()["steps"])],
    )
    assert flagged == [(expected,)]


def test_dbt_summarises_the_raw_load_indexes_before_reading_by_load(
    loaded_before_first_build: dict[str, int], first_build: DbtResult, kit: Any
) -> None:
    """The loader leaves index upkeep to its readers: dbt's on-run-start hook summarises the
    pages of every load appended since the last run (macros/raw_load_indexes.sql)."""
    assert loaded_before_first_build["unsummarised_ranges"] > 0
    assert unsummarised_load_index_ranges(kit) == 0


def test_each_row_is_stamped_with_the_transaction_that_wrote_it(
    first_build: DbtResult, kit: Any
) -> None:
    """dbt_write_id, which the incremental models' horizons compare, is the id of the
    transaction that wrote the row (its xmin, in the 32 bits a row keeps), in every model:
    never null, which it is where the models' pre-hook did not run."""
    stamped = kit.query(
        "select table_schema, table_name from information_schema.columns"
        " join information_schema.tables using (table_schema, table_name)"
        " where column_name = 'dbt_write_id' and table_type = 'BASE TABLE'"
        " and table_schema in ('staging', 'intermediate', 'marts')"
    )
    assert len(stamped) > 40
    for schema, table in stamped:
        wrong, total = kit.query(
            "select count(*) filter"
            " (where dbt_write_id %% 4294967296 is distinct from xmin::text::bigint),"
            f' count(*) from "{schema}"."{table}"'
        )[0]
        assert wrong == 0, f"{schema}.{table}: {wrong} of {total} rows"


@pytest.mark.parametrize(
    "model", ["int_intraday_loads", "int_minute_activity", "int_heart_rate_minutes"]
)
def test_postgres_may_read_the_intraday_rows_on_several_cores(
    first_build: DbtResult, kit: Any, model: str
) -> None:
    """The stamp is read from a setting (macros/incremental.sql): pg_current_xact_id() in a
    model's query would keep PostgreSQL from planning any part of it in parallel. With
    parallel plans made free, the model's query has one."""
    compiled = kit.target_path / "compiled" / "wearable" / "models" / "intermediate"
    query = (compiled / f"{model}.sql").read_text()
    with psycopg.connect(kit.database_url) as conn:
        for setting in ("parallel_setup_cost", "parallel_tuple_cost"):
            conn.execute(f"set {setting} = 0")
        conn.execute("set min_parallel_table_scan_size = 0")
        plan = "\n".join(row[0] for row in conn.execute(f"explain {query}"))
    assert "Gather" in plan, plan


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


def test_compliance_has_one_row_per_participant(first_build: DbtResult, kit: Any) -> None:
    rows = kit.query(
        "select user_id, days_with_data, valid_days, valid_day_share, days_in_window"
        " from marts.participant_compliance"
    )
    fitbit = {r[0]: r[1:] for r in rows if r[0] in csv_totals()["steps"]}
    assert len(fitbit) == 33
    days, valid, share, window = fitbit[FITBIT_USER]
    assert (days, window) == (31, 31)
    assert float(share) == round(valid / window, 4)
    # app-only users (events without device data) are not participants
    app_only = kit.query(
        "select count(*) from marts.participant_compliance where user_id not in"
        " (select user_id from marts.daily_user_summary where has_device_data)"
    )
    assert app_only == [(0,)]


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
    assert types["is_not_worn"] == types["is_valid_day"] == "boolean"
    assert types["dbt_updated_at"] == "timestamp with time zone"


def test_built_tables_have_planner_statistics_at_once(first_build: DbtResult, kit: Any) -> None:
    """A table dbt (re)creates is analysed in the same build (analyze_if_rebuilt), so the
    next model, test and incremental run are not planned blind; incremental runs leave
    re-analysing to autovacuum."""
    analysed = {
        row[0]
        for row in kit.query(
            "select distinct tablename from pg_stats"
            " where schemaname in ('staging', 'intermediate', 'marts')"
        )
    }
    assert {"stg_daily_activity", "stg_sleep", "stg_events", "daily_user_summary"} <= analysed
    assert {"hourly_activity", "int_heart_rate_minutes"} <= analysed


# -- the incremental build ---------------------------------------------------------------------


def test_incremental_build_succeeds(second_build: DbtResult) -> None:
    assert second_build.success, second_build.summary()
    assert second_build.failed_tests == []


def test_incremental_build_picks_up_new_events(second_build: DbtResult, kit: Any) -> None:
    raw = kit.query("select count(*) from raw.raw_events")
    assert kit.query("select count(*) from staging.stg_events") == raw


def test_newest_load_wins(second_build: DbtResult, kit: Any) -> None:
    steps = kit.query(
        "select steps from staging.stg_daily_activity where user_id = %s"
        " and activity_date = '2016-04-13' and source_format = 'fitbit_daily_activity'",
        [FITBIT_USER],
    )
    assert steps == [(11111,)]
    summary = kit.query(
        "select steps from marts.daily_user_summary"
        " where user_id = %s and summary_date = '2016-04-13'",
        [FITBIT_USER],
    )
    assert summary == [(11111,)]


def test_a_heart_rate_re_export_replaces_its_day_and_a_new_day_arrives(
    second_build: DbtResult, synthetic: dict[str, Path], kit: Any
) -> None:
    user = rows_of(synthetic["fitbit_heartrate_seconds"])[0]["Id"]
    rows = kit.query(
        "select summary_date, heart_rate_samples, min_heart_rate_bpm, max_heart_rate_bpm"
        " from marts.daily_user_summary where user_id = %s and summary_date in"
        " ('2024-01-01', '2024-01-09') order by 1",
        [user],
    )
    assert rows == [(date(2024, 1, 1), 2, 100, 110), (date(2024, 1, 9), 1, 90, 90)]


def test_source_priority_picks_fitbit_without_double_counting(
    second_build: DbtResult, kit: Any
) -> None:
    rows = kit.query(
        "select steps, steps_source, calories_kcal, calories_source"
        " from marts.daily_user_summary where user_id = %s and summary_date = '2016-04-14'",
        [FITBIT_USER],
    )
    fitbit = next(
        row
        for row in read("dailyActivity_merged.csv")
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
            "select user_id, summary_date, steps, dbt_write_id from marts.daily_user_summary",
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


COMPARED = {
    "marts.daily_user_summary": "user_id, summary_date",
    "marts.hourly_activity": "user_id, activity_hour",
    "staging.stg_daily_activity": "user_id, activity_date, source_format",
    "staging.stg_sleep": "user_id, sleep_date, source_format",
    "intermediate.int_heart_rate_daily": "user_id, activity_date",
    "intermediate.int_minute_activity_daily": "user_id, activity_date",
    "intermediate.int_sleep_episodes": "user_id, log_id",
    "intermediate.int_body_measurements": "user_id, log_id",
}


def _snapshot(kit: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the compared models, without the columns that record when or by which
    transaction a row was written."""
    snapshot = {}
    for table, order in COMPARED.items():
        schema, name = table.split(".")
        columns = [
            column
            for (column,) in kit.query(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s order by ordinal_position",
                [schema, name],
            )
            if column not in ("dbt_write_id", "dbt_loaded_at", "dbt_updated_at")
        ]
        snapshot[table] = kit.query(f"select {', '.join(columns)} from {table} order by {order}")
    return snapshot


def test_the_incremental_build_equals_a_full_refresh(second_build: DbtResult, kit: Any) -> None:
    incremental = _snapshot(kit)
    refreshed = kit.dbt("run", "--full-refresh")
    assert refreshed.success, refreshed.summary()
    full = _snapshot(kit)
    for table in COMPARED:
        assert incremental[table] == full[table], table


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


# -- a participant withdraws consent (runs last: it deletes data) -----------------------------


def _rows_per_user(kit: Any) -> Counter[tuple[str, str]]:
    """(table, user) → rows, over every raw table with a user column and every dbt table."""
    counts: Counter[tuple[str, str]] = Counter()
    for fmt in FORMATS:
        if fmt.user_id_column is None:
            continue
        column = fmt.user_id_column.lower()
        for user, count in kit.query(
            f"select trim({column}), count(*) from {fmt.qualified_table} t"
            " join ops.file_loads l on l.load_id = t._load_id and l.source_format = %s"
            f" group by 1",
            [fmt.name],
        ):
            counts[(fmt.qualified_table, user)] += count
    for schema, table in kit.query(
        "select table_schema, table_name from information_schema.columns"
        " join information_schema.tables using (table_schema, table_name)"
        " where column_name = 'user_id' and table_type = 'BASE TABLE'"
        " and table_schema in ('staging', 'intermediate', 'marts')"
    ):
        for user, count in kit.query(f"select user_id, count(*) from {schema}.{table} group by 1"):
            counts[(f"{schema}.{table}", user)] += count
    for user, count in kit.query("select user_id, count(*) from raw.raw_events group by 1"):
        counts[("raw.raw_events", user)] += count
    return counts


@pytest.fixture(scope="module")
def forgotten(second_build: DbtResult, kit: Any) -> dict[str, Any]:
    from wearable_pipeline.consent.forget import forget_participant

    before = _rows_per_user(kit)
    with psycopg.connect(kit.database_url) as conn:
        dry = forget_participant(conn, FITBIT_USER, requested_by="test", dry_run=True)
        report = forget_participant(conn, FITBIT_USER, requested_by="test")
    return {"before": before, "after": _rows_per_user(kit), "dry": dry, "report": report}


def test_forget_removes_every_row_of_the_participant_and_nothing_else(
    forgotten: dict[str, Any],
) -> None:
    before, after = forgotten["before"], forgotten["after"]
    theirs = {key: count for key, count in before.items() if key[1] == FITBIT_USER}
    assert len(theirs) > 20  # raw, staging, intermediate, marts, events
    assert not [key for key in after if key[1] == FITBIT_USER]
    assert {k: v for k, v in before.items() if k[1] != FITBIT_USER} == after
    report = forgotten["report"]
    assert (
        report.rows["marts.daily_user_summary"] == before[("marts.daily_user_summary", FITBIT_USER)]
    )
    assert report.rows["raw.fitbit_hourly_steps"] == 717  # the user's lines in hourlySteps
    assert forgotten["dry"].rows == report.rows  # a dry run counts the same, deletes nothing


def test_forget_records_who_and_when_not_the_data(forgotten: dict[str, Any], kit: Any) -> None:
    (row,) = kit.query("select user_id, requested_by, rows_deleted from ops.forgotten_participants")
    assert row[:2] == (FITBIT_USER, "test")
    assert set(row[2]) <= set(forgotten["report"].rows)  # table names and counts only


def test_a_re_ingest_does_not_bring_the_participant_back_unless_asked(
    forgotten: dict[str, Any], kit: Any, tmp_path: Path
) -> None:
    from wearable_pipeline.ingest.loader import ingest_paths

    # the same files: already loaded, skipped
    again = ingest_paths(kit.database_url, [FITBIT_FIXTURES], drop_dir=FITBIT_FIXTURES)
    assert {f.status for f in again.files} == {"skipped"}
    # a re-export with the participant in it: their rows are left out, and counted
    lines = (FITBIT_FIXTURES / "hourlySteps_merged.csv").read_text().splitlines()
    changed = tmp_path / "hourlySteps_merged.csv"
    changed.write_text("\n".join([*lines, f"{FITBIT_USER},5/13/2016 1:00:00 AM,7"]) + "\n")
    (result,) = ingest_paths(kit.database_url, [changed], drop_dir=tmp_path).files
    assert (result.status, result.rows_forgotten) == ("loaded", 718)
    assert result.rows_loaded == len(lines) - 1 - 717
    assert kit.query(
        "select count(*) from raw.fitbit_hourly_steps where trim(id) = %s", [FITBIT_USER]
    ) == [(0,)]
    # unless asked
    changed.write_text(changed.read_text() + f"{FITBIT_USER},5/13/2016 2:00:00 AM,8\n")
    (included,) = ingest_paths(
        kit.database_url, [changed], drop_dir=tmp_path, include_forgotten=True
    ).files
    assert (included.status, included.rows_forgotten) == ("loaded", 0)
    assert kit.query(
        "select count(*) from raw.fitbit_hourly_steps where trim(id) = %s", [FITBIT_USER]
    ) == [(719,)]
