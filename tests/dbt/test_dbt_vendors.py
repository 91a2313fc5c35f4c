"""The six vendors end to end: each synthetic export (tests/fixtures/<vendor>/<user>/, the real
headers and quirks) ingests, `dbt build` passes, and the fixture's per-day steps, minutes
asleep and workouts come out right in daily_user_summary; a user with a Fitbit and an Oura
export for the same days gets one row per day, each metric from its source by priority.

One database and two builds for the module (dbt runs are slow): the first, with the vendor
models' unit tests, on every fixture; the second, incremental, of what two re-exports touch
(WHOOP's open cycle closed; Garmin's workouts again, one changed and one new).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wearable_pipeline.ingest.formats import FORMATS
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.transform.dbt import DbtResult

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent.parent / "fixtures"
# The unit tests of models this module does not touch run in test_dbt_build.py; here only
# those of the vendors' models and of the unions and mart they feed.
OTHER_UNIT_TESTS = [
    f"test_type:unit,path:{path}"
    for path in (
        "models/staging/fitbit",
        "models/staging/events",
        "models/staging/canonical",
        "models/intermediate/int_intraday_loads.yml",
        "models/marts/participant_compliance.yml",
    )
]
VENDORS = ("google_fit", "oura", "whoop", "samsung", "withings", "garmin")
VENDOR_FORMATS = [fmt for fmt in FORMATS if fmt.vendor in VENDORS]
OURA_USER = "1503960366"  # also in the Fitbit export, 2016-04-12 onwards

# (user, day) → what daily_user_summary must say, straight from the fixture files.
EXPECTED_DAYS: dict[tuple[str, str], dict[str, Any]] = {
    # Google Fit: metres → km; a mostly blank day; a second export with other columns
    ("gfit-user", "2024-03-01"): {"steps": 6789, "distance_km": Decimal("5.235"), "workouts": 0},
    ("gfit-user", "2024-03-02"): {"steps": None, "calories_kcal": 1500, "minutes_asleep": None},
    ("gfit-user2", "2018-03-20"): {"steps": 3210, "distance_km": Decimal("2.400")},
    # Oura before the Fitbit export starts: seconds → minutes; a row out of date order
    (OURA_USER, "2016-04-09"): {"steps": 6000, "minutes_asleep": 390, "minutes_in_bed": 420},
    (OURA_USER, "2016-04-10"): {"steps": 8000, "minutes_asleep": 420, "sedentary_minutes": 500},
    # WHOOP: newest first; the offset changes in the file; a nap adds to its wake date
    ("whoop-user", "2024-11-02"): {"minutes_asleep": 400, "workouts": 0, "calories_kcal": 2100},
    ("whoop-user", "2024-11-03"): {"minutes_asleep": 420, "workouts": 1, "workout_minutes": 30},
    ("whoop-user", "2024-11-04"): {"minutes_asleep": 475, "sleep_records": 2, "workouts": 1},
    # Samsung: one day's total from several devices, never their sum; overlapping sleeps
    ("samsung-user", "2024-05-01"): {"steps": 5200, "minutes_asleep": 454, "sleep_records": 2},
    ("samsung-user", "2024-05-02"): {"steps": 6100, "minutes_asleep": 428},
    ("samsung-user", "2024-05-03"): {"steps": 2700, "minutes_asleep": None},
    # Samsung's older files: a cumulative re-export, a second device, a record from time zero
    ("samsung-legacy", "2018-05-02"): {"minutes_asleep": 440, "workouts": 1, "workout_minutes": 30},
    ("samsung-legacy", "2018-05-03"): {"minutes_asleep": 430, "workouts": 1, "workout_minutes": 45},
    ("samsung-legacy", "2018-05-04"): {"minutes_asleep": 450, "sleep_records": 1},
    # Withings: German headers; the aggregates told apart by name; an empty Multi Sport row
    ("withings-user", "2024-02-02"): {"steps": 8100, "minutes_asleep": 450, "workouts": 1},
    ("withings-user", "2024-02-03"): {"steps": 7200, "minutes_asleep": 410, "workouts": 1},
    # Withings in English, across the change to summer time: 8 hours on the clock, 7 in bed
    ("withings-en", "2024-03-31"): {"minutes_asleep": 410, "minutes_in_bed": 420},
    # Garmin: `--`, thousands separators, a swim in metres, newest first; Danish headers
    ("garmin-user", "2024-06-01"): {"workouts": 1, "workout_minutes": Decimal("60.0")},
    ("garmin-user", "2024-06-02"): {"workouts": 2, "workout_minutes": Decimal("94.8")},
    ("garmin-dk", "2024-05-10"): {"workouts": 1, "workout_minutes": Decimal("45.2")},
}


def load_vendor_fixtures(database_url: str) -> list[Any]:
    """Every vendor's fixture folder through the real loader; the users are the folders."""
    results = []
    for vendor in VENDORS:
        report = ingest_paths(database_url, [FIXTURES / vendor], drop_dir=FIXTURES / vendor)
        results.extend(report.files)
    return results


def fitbit_heart_rate(user: str, day: str, minutes: int) -> list[dict[str, str]]:
    """A heart-rate sample a minute for `minutes` minutes from 1 AM (Fitbit's format)."""
    return [
        {
            "Id": user,
            "Time": f"{day} {1 + minute // 60}:{minute % 60:02d}:00 AM",
            "Value": str(55 + minute % 20),
        }
        for minute in range(minutes)
    ]


def summary(kit: Any, user: str, day: str, columns: list[str]) -> dict[str, Any]:
    rows = kit.query(
        f"select {', '.join(columns)} from marts.daily_user_summary"
        " where user_id = %s and summary_date = %s",
        [user, date.fromisoformat(day)],
    )
    assert len(rows) == 1, (user, day, rows)
    return dict(zip(columns, rows[0], strict=True))


@pytest.fixture(scope="module")
def loads(kit: Any) -> list[Any]:
    kit.load_fitbit_csvs()
    # Fitbit heart rate for the Oura user's 2016-04-12: Fitbit's resting proxy beside Oura's
    kit.ingest_rows("heartrate_seconds_merged.csv", fitbit_heart_rate(OURA_USER, "4/12/2016", 90))
    return load_vendor_fixtures(kit.database_url)


@pytest.fixture(scope="module")
def first_build(kit: Any, loads: list[Any]) -> DbtResult:
    return kit.dbt("build", "--exclude", *OTHER_UNIT_TESTS)


@pytest.fixture(scope="module")
def before_reexports(first_build: DbtResult, kit: Any) -> dict[tuple[str, date], int]:
    rows = kit.query("select user_id, summary_date, dbt_write_id from marts.daily_user_summary")
    return {(user, day): write_id for user, day, write_id in rows}


@pytest.fixture(scope="module")
def second_build(
    first_build: DbtResult, before_reexports: dict[tuple[str, date], int], kit: Any
) -> DbtResult:
    """Re-exports after the first build, incrementally: WHOOP's open cycle has closed (and a
    new one is open); Garmin's export repeats every workout, one corrected, one new."""
    whoop = (FIXTURES / "whoop" / "whoop-user" / "physiological_cycles.csv").read_text()
    header, open_cycle, *older = whoop.splitlines()
    closed = open_cycle.split(",")
    columns = header.split(",")

    def cell(name: str) -> int:
        return columns.index(name)

    closed[cell("Cycle end time")] = "2024-11-05 23:00:00"
    closed[cell("Sleep onset")] = "2024-11-04 23:10:00"
    closed[cell("Wake onset")] = "2024-11-05 07:00:00"
    closed[cell("Energy burned (cal)")] = "2300"
    closed[cell("Resting heart rate (bpm)")] = "51"
    new_open = ["" for _ in columns]
    new_open[cell("Cycle start time")] = "2024-11-05 23:00:00"
    new_open[cell("Cycle timezone")] = "UTC-05:00"
    new_open[cell("Energy burned (cal)")] = "120"
    folder = kit.drop_dir / "whoop-user"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "physiological_cycles.csv").write_text(
        "\n".join([header, ",".join(new_open), ",".join(closed), *older]) + "\n"
    )
    garmin = (FIXTURES / "garmin" / "garmin-user" / "Activities.csv").read_text().splitlines()
    new_run = garmin[2].replace("2024-06-02 18:30:00", "2024-06-05 18:30:00")
    corrected_yoga = garmin[4].replace(",120,", ",130,")
    folder = kit.drop_dir / "garmin-user"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Activities.csv").write_text(
        "\n".join([garmin[0], new_run, *garmin[1:4], corrected_yoga]) + "\n"
    )
    report = ingest_paths(
        kit.database_url,
        [kit.drop_dir / "whoop-user", kit.drop_dir / "garmin-user"],
        drop_dir=kit.drop_dir,
    )
    assert [f.status for f in report.files] == ["loaded"] * 2, report.to_dict()
    return kit.dbt(
        "build",
        "--select",
        "stg_whoop__cycles+",
        "stg_garmin__activities+",
        "--exclude-resource-type",
        "unit_test",
    )


# -- ingest --------------------------------------------------------------------------------------


def test_every_fixture_loads_as_its_format(loads: list[Any]) -> None:
    assert all(result.status == "loaded" for result in loads), [
        (r.path, r.status, r.error) for r in loads if r.status != "loaded"
    ]
    assert sum(result.rows_rejected for result in loads) == 0
    assert {result.source_format for result in loads} == {fmt.name for fmt in VENDOR_FORMATS}
    for result in loads:
        assert result.user_id_hint == Path(result.path).parent.name, result.path


# -- the first build -----------------------------------------------------------------------------


def test_the_build_passes_with_every_vendor_unit_test(first_build: DbtResult) -> None:
    assert first_build.success, first_build.summary()
    assert first_build.failed_tests == []
    unit_tests = {n.name: n.status for n in first_build.nodes if n.resource_type == "unit_test"}
    for fmt in VENDOR_FORMATS:
        pinned = [name for name in unit_tests if name.startswith(fmt.staging_model)]
        assert pinned, f"no unit test pins the mapping of {fmt.staging_model}"
    assert all(status == "pass" for status in unit_tests.values()), unit_tests


def test_the_quirks_are_missing_values_not_parse_errors(first_build: DbtResult, kit: Any) -> None:
    for fmt in VENDOR_FORMATS:
        (errors,) = kit.query(
            f"select count(*) from staging.{fmt.staging_model} where parse_errors is not null"
        )[0]
        assert errors == 0, fmt.staging_model


def test_each_vendors_days_come_out_right_in_the_mart(first_build: DbtResult, kit: Any) -> None:
    for (user, day), expected in EXPECTED_DAYS.items():
        assert summary(kit, user, day, list(expected)) == expected, (user, day)


def test_fitbit_and_oura_on_the_same_days_give_one_row_each_by_priority(
    first_build: DbtResult, kit: Any
) -> None:
    days = kit.query(
        "select summary_date, count(*) from marts.daily_user_summary where user_id = %s"
        " and summary_date between '2016-04-09' and '2016-04-13' group by 1 order by 1",
        [OURA_USER],
    )
    assert [count for _, count in days] == [1] * 5
    both = summary(
        kit,
        OURA_USER,
        "2016-04-12",
        [
            "steps",
            "steps_source",
            "calories_source",
            "activity_minutes_source",
            "minutes_asleep",
            "sleep_source",
            "resting_heart_rate_bpm",
            "resting_heart_rate_source",
            "heart_rate_source",
        ],
    )
    assert both == {
        "steps": 13162,  # Fitbit's; Oura counted 9000: never 22162
        "steps_source": "fitbit_daily_activity",
        "calories_source": "fitbit_daily_activity",
        "activity_minutes_source": "fitbit_daily_activity",
        "minutes_asleep": 327,
        "sleep_source": "fitbit_sleep_day",
        "resting_heart_rate_bpm": Decimal("52.0"),  # Oura measures it; Fitbit's is a proxy
        "resting_heart_rate_source": "oura_trends",
        "heart_rate_source": "fitbit_heartrate_seconds",
    }
    oura_only = summary(
        kit, OURA_USER, "2016-04-11", ["steps_source", "sleep_source", "resting_heart_rate_source"]
    )
    assert set(oura_only.values()) == {"oura_trends"}


def test_the_fitbit_proxy_stands_beside_ouras_resting_heart_rate(
    first_build: DbtResult, kit: Any
) -> None:
    rows = dict(
        kit.query(
            "select source_format, resting_bpm from intermediate.int_daily_heart_rate"
            " where user_id = %s and activity_date = '2016-04-12'",
            [OURA_USER],
        )
    )
    assert set(rows) == {"oura_trends", "fitbit_heartrate_seconds"}
    assert rows["oura_trends"] == Decimal("52.0")
    assert rows["fitbit_heartrate_seconds"] is not None


def test_whoop_times_keep_their_changing_offset_and_the_open_cycle(
    first_build: DbtResult, kit: Any
) -> None:
    cycles = kit.query(
        "select activity_date, utc_offset_minutes, is_open_cycle, calories_kcal"
        " from staging.stg_whoop__cycles order by activity_date"
    )
    assert [(str(d), offset, is_open) for d, offset, is_open, _ in cycles] == [
        ("2024-11-02", -240, False),
        ("2024-11-03", -240, False),
        ("2024-11-04", -300, False),
        ("2024-11-05", -300, True),
    ]
    assert summary(kit, "whoop-user", "2024-11-05", ["calories_kcal"]) == {"calories_kcal": 450}


def test_sleep_periods_left_out_are_counted_per_day(first_build: DbtResult, kit: Any) -> None:
    left_out = kit.query(
        "select user_id, sleep_date, periods_left_out from intermediate.int_sleep_from_periods"
        " where periods_left_out > 0 order by 1, 2"
    )
    assert [(user, str(day), n) for user, day, n in left_out] == [
        ("samsung-legacy", "2018-05-03", 1),  # the second device's shorter night
        ("samsung-legacy", "2018-05-04", 1),  # the record starting at time zero
        ("samsung-user", "2024-05-01", 1),  # the phone's hand-logged night under the watch's
    ]


def test_a_header_with_other_columns_widens_the_raw_table(first_build: DbtResult, kit: Any) -> None:
    columns = {
        name
        for (name,) in kit.query(
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'google_fit_daily'"
        )
    }
    assert {"pilates_duration_ms", "yoga_duration_ms", "step_count"} <= columns


def test_workouts_keep_one_row_per_workout(first_build: DbtResult, kit: Any) -> None:
    rows = kit.query(
        "select user_id, workout_date, workout_type, distance_km from intermediate.int_workouts"
        " where user_id in ('withings-user', 'garmin-user') order by 1, 2, 3"
    )
    assert [(u, str(d), t, km) for u, d, t, km in rows] == [
        ("garmin-user", "2024-06-01", "Yoga", None),
        ("garmin-user", "2024-06-02", "Running", Decimal("10.250")),
        ("garmin-user", "2024-06-02", "Strength Training", Decimal("0.000")),
        ("garmin-user", "2024-06-03", "Open Water Swimming", Decimal("1.500")),
        ("withings-user", "2024-02-02", "Walking", Decimal("3.200")),
        ("withings-user", "2024-02-03", "Rowing", Decimal("5.000")),
    ]


# -- after re-exports, incrementally ---------------------------------------------------------


def test_the_incremental_build_passes(second_build: DbtResult) -> None:
    assert second_build.success, second_build.summary()
    assert second_build.failed_tests == []


def test_a_closed_cycle_replaces_the_open_one(second_build: DbtResult, kit: Any) -> None:
    assert summary(
        kit, "whoop-user", "2024-11-05", ["calories_kcal", "resting_heart_rate_bpm"]
    ) == {"calories_kcal": 2300, "resting_heart_rate_bpm": Decimal("51.0")}
    assert summary(kit, "whoop-user", "2024-11-06", ["calories_kcal"]) == {"calories_kcal": 120}


def test_a_repeated_export_counts_each_workout_once(second_build: DbtResult, kit: Any) -> None:
    assert summary(kit, "garmin-user", "2024-06-01", ["workouts"]) == {"workouts": 1}
    assert summary(kit, "garmin-user", "2024-06-02", ["workouts"]) == {"workouts": 2}
    assert summary(kit, "garmin-user", "2024-06-05", ["workouts"]) == {"workouts": 1}
    (energy,) = kit.query(
        "select energy_kcal from intermediate.int_workouts"
        " where user_id = 'garmin-user' and workout_type = 'Yoga'"
    )[0]
    assert energy == Decimal("130.0")


def test_only_the_re_exported_days_are_recomputed(
    second_build: DbtResult, before_reexports: dict[tuple[str, date], int], kit: Any
) -> None:
    after = {
        (user, day): write_id
        for user, day, write_id in kit.query(
            "select user_id, summary_date, dbt_write_id from marts.daily_user_summary"
        )
    }
    changed = {key for key, write_id in after.items() if before_reexports.get(key) != write_id}
    assert {user for user, _ in changed} == {"whoop-user", "garmin-user"}
    assert (("gfit-user", date(2024, 3, 1))) not in changed
