"""The tests bite: bad raw data makes `dbt test` fail or warn, naming exactly the tests that
guard it and the load and line of each bad row; and they keep biting until the data is fixed.

On top of the real Fitbit export, built and tested green first (so every scoped data test
reads only rows written since then: `where: "{{ var('unverified_rows') }}"`,
dbt/macros/verification.sql), new loads bring: a negative step count, a night with more
minutes asleep than in bed, a re-exported day holding two different rows for one user and
date (all errors: a newer load of the same day corrects them), and values that do not parse -
an impossible time, `--` for steps, a heart-rate time that is no time, a weight log without a
weight (warnings: such rows have no key a newer load could correct). Models build (staging
never crashes on bad values); `dbt test` then fails with the range, expression and grain
tests and warns with the parse tests - and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from wearable_pipeline.transform.dbt import DbtResult

pytestmark = pytest.mark.slow

EXPECTED_FAILURES = {
    # negative steps
    "range_stg_daily_activity_steps__200000__0",
    "range_daily_user_summary_steps__200000__0",
    # more minutes asleep than in bed
    "stg_sleep_asleep_within_time_in_bed",
    "daily_user_summary_asleep_within_time_in_bed",
    "range_daily_user_summary_sleep_efficiency__1__0",
    # a duplicated user-day
    "unique_combination_of_columns_stg_daily_activity_user_id__activity_date__source_format",
}
EXPECTED_WARNINGS = {
    # `13/45/2016 99:00:00 PM` and `--` in hourlySteps
    "all_values_parse_stg_fitbit__hourly_steps_parse_errors",
    "not_null_stg_fitbit__hourly_steps_activity_hour",
    # a heart-rate sample whose time is no time
    "int_intraday_loads_every_value_parses",
    "int_intraday_loads_every_row_has_a_user_and_day",
    # a weight log without a weight, kept and flagged
    "int_body_measurements_every_log_has_a_weight",
}
MODELS = ("--resource-type", "seed", "--resource-type", "model")
# Unit tests read no table, so no data here can make them fail: tests/dbt/test_dbt_build.py runs
# them. Every data test still runs (a horizon is verified only when all of them did).
NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def verified_horizons(kit: Any) -> int:
    return kit.query("select count(*) from dbt_state.verified_horizons")[0][0]


@pytest.fixture(scope="module")
def green(kit: Any) -> DbtResult:
    from wearable_pipeline.events.generator import generate_events

    kit.load_fitbit_export()
    kit.insert_events(generate_events(users=3, days=2, seed=1))  # app traffic is recent
    return kit.dbt("build", *NO_UNIT_TESTS)


@pytest.fixture(scope="module")
def bad_loads(green: DbtResult, kit: Any) -> dict[str, int]:
    loads = {}
    negative = kit.fitbit_activity_row("1624580081", "4/12/2016", "-5")
    loads["negative"] = kit.ingest_rows("dailyActivity_negative.csv", [negative])
    loads["sleep"] = kit.ingest_rows(
        "sleepDay_too_much.csv",
        [
            {
                "id": "1503960366",
                "sleep_day": "4/12/2016 12:00:00 AM",
                "total_sleep_records": "1",
                "total_minutes_asleep": "500",
                "total_time_in_bed": "400",
            }
        ],
    )
    loads["duplicated"] = kit.ingest_rows(
        "dailyActivity_duplicated_day.csv",
        [
            kit.fitbit_activity_row("1503960366", "4/20/2016", "1000"),
            kit.fitbit_activity_row("1503960366", "4/20/2016", "2000"),
        ],
    )
    loads["hourly"] = kit.ingest_rows(
        "hourlySteps_bad.csv",
        [
            {"Id": "1503960366", "ActivityHour": "13/45/2016 99:00:00 PM", "StepTotal": "5"},
            {"Id": "1503960366", "ActivityHour": "4/12/2016 3:00:00 PM", "StepTotal": "--"},
        ],
    )
    loads["heart_rate"] = kit.ingest_rows(
        "heartrate_seconds_bad.csv",
        [
            {"Id": "1503960366", "Time": "4/12/2016 7:21:00 AM", "Value": "97"},
            {"Id": "1503960366", "Time": "yesterday", "Value": "90"},
        ],
    )
    loads["minute_steps"] = kit.ingest_rows(
        "minuteStepsNarrow_bad.csv",
        [
            {"Id": "1503960366", "ActivityMinute": "4/12/2016 7:21:00 AM", "Steps": "12"},
            # a real day, but no time of it: counted and named, never a minute of activity
            {"Id": "1503960366", "ActivityMinute": "4/12/2016 13:05:00 PM", "Steps": "5"},
        ],
    )
    loads["weight"] = kit.ingest_rows(
        "weightLogInfo_no_weight.csv",
        [
            {
                "Id": "1503960366",
                "Date": "5/13/2016 11:59:59 PM",
                "WeightKg": "",
                "WeightPounds": "",
                "Fat": "",
                "BMI": "",
                "IsManualReport": "True",
                "LogId": "1463183999000",
            }
        ],
    )
    return loads


@pytest.fixture(scope="module")
def built(bad_loads: dict[str, int], kit: Any) -> DbtResult:
    return kit.dbt("build", *MODELS)


@pytest.fixture(scope="module")
def tested(built: DbtResult, kit: Any) -> dict[str, Any]:
    horizons = verified_horizons(kit)
    return {"result": kit.dbt("test", *NO_UNIT_TESTS), "horizons_before": horizons}


@pytest.fixture(scope="module")
def retested(tested: dict[str, Any], kit: Any) -> DbtResult:
    """The same tests again, nothing fixed (only the daily-activity model's, for time)."""
    return kit.dbt("test", "--select", "stg_daily_activity", *NO_UNIT_TESTS)


@pytest.fixture(scope="module")
def fixed(retested: DbtResult, kit: Any) -> dict[str, Any]:
    """A corrected re-export of each day the bad loads broke: the newest load wins."""
    horizons = verified_horizons(kit)
    kit.ingest_rows(
        "dailyActivity_corrected.csv",
        [
            kit.fitbit_activity_row("1624580081", "4/12/2016", "5"),
            kit.fitbit_activity_row("1503960366", "4/20/2016", "1500"),
        ],
    )
    kit.ingest_rows(
        "sleepDay_corrected.csv",
        [
            {
                "id": "1503960366",
                "sleep_day": "4/12/2016 12:00:00 AM",
                "total_sleep_records": "1",
                "total_minutes_asleep": "327",
                "total_time_in_bed": "346",
            }
        ],
    )
    return {"result": kit.dbt("build", *NO_UNIT_TESTS), "horizons_before": horizons}


def test_the_green_build_verifies_a_horizon(green: DbtResult, kit: Any) -> None:
    assert green.success, green.summary()
    assert verified_horizons(kit) == 1
    compiled = (
        kit.target_path
        / "run/wearable/models/intermediate/stg_daily_activity.yml"
        / "range_stg_daily_activity_steps__200000__0.sql"
    ).read_text()
    assert (
        "dbt_write_id >= (select coalesce(max(horizon), 0) from dbt_state.verified_horizons)"
        in (compiled)
    )


def test_bad_values_do_not_break_the_models(built: DbtResult) -> None:
    assert built.success, built.summary()
    assert built.models_built >= 30


def test_dbt_test_fails(tested: dict[str, Any]) -> None:
    result = tested["result"]
    assert not result.success
    assert result.exit_code == 1
    assert result.exception is None


def test_the_failing_tests_are_exactly_the_guards_of_the_bad_data(tested: dict[str, Any]) -> None:
    result = tested["result"]
    assert set(result.failed_tests) == EXPECTED_FAILURES
    warned = {n.name for n in result.tests if n.status == "warn"}
    assert warned == EXPECTED_WARNINGS
    assert result.tests_passed > 60


def test_failures_point_at_the_bad_rows(tested: dict[str, Any]) -> None:
    failures = {
        n.name: n.failures for n in tested["result"].tests if n.failed or n.status == "warn"
    }
    assert failures["range_stg_daily_activity_steps__200000__0"] == 1
    assert failures["stg_sleep_asleep_within_time_in_bed"] == 1
    assert (
        failures[
            "unique_combination_of_columns_stg_daily_activity_user_id__activity_date__source_format"
        ]
        == 1
    )
    assert failures["all_values_parse_stg_fitbit__hourly_steps_parse_errors"] == 2


def test_values_that_do_not_parse_are_named_with_their_load_and_line(
    tested: dict[str, Any], bad_loads: dict[str, int], kit: Any
) -> None:
    # what the all_values_parse test returns: load, line and the text that did not parse
    hourly = kit.query(
        "select load_id, source_row_number, parse_errors from staging.stg_fitbit__hourly_steps"
        " where parse_errors is not null order by 2"
    )
    assert hourly == [
        (bad_loads["hourly"], 2, 'ActivityHour "13/45/2016 99:00:00 PM"'),
        (bad_loads["hourly"], 3, 'StepTotal "--"'),
    ]
    intraday = kit.query(
        "select load_id, unparsed_rows, first_unparsed_row, example_parse_error"
        " from intermediate.int_intraday_loads where unparsed_rows > 0 order by load_id"
    )
    assert intraday == [
        (bad_loads["heart_rate"], 1, 3, 'Time "yesterday"'),
        (bad_loads["minute_steps"], 1, 3, 'ActivityMinute "4/12/2016 13:05:00 PM"'),
    ]
    weight = kit.query(
        "select load_id, source_row_number, has_weight from intermediate.int_body_measurements"
        " where not has_weight"
    )
    assert weight == [(bad_loads["weight"], 2, False)]


def test_a_minute_whose_time_does_not_parse_is_no_minute_of_activity(
    tested: dict[str, Any], kit: Any
) -> None:
    # the newest load of that user-day wins: its one good minute, not the row without a time
    minutes = kit.query(
        "select activity_minute, steps from intermediate.int_minute_activity"
        " where user_id = '1503960366' and activity_date = date '2016-04-12'"
    )
    assert minutes == [(datetime(2016, 4, 12, 7, 21), 12)]


def test_a_failing_run_verifies_nothing_and_the_next_run_still_fails(
    tested: dict[str, Any], retested: DbtResult, kit: Any
) -> None:
    assert verified_horizons(kit) == tested["horizons_before"] == 1
    assert not retested.success
    assert "range_stg_daily_activity_steps__200000__0" in retested.failed_tests
    assert verified_horizons(kit) == 1  # a --select'ed run never verifies either


def test_the_fix_turns_the_build_green_and_verifies_a_new_horizon(
    fixed: dict[str, Any], kit: Any
) -> None:
    result = fixed["result"]
    assert result.success, result.summary()
    assert result.failed_tests == []
    assert verified_horizons(kit) == fixed["horizons_before"] + 1
    # the parse warnings are named in every run until one verifies their rows: this one
    assert {n.name for n in result.tests if n.status == "warn"} == EXPECTED_WARNINGS


def test_a_changed_test_reads_every_row_again(
    fixed: dict[str, Any], project_copy: Any, kit: Any
) -> None:
    """A stricter bound catches rows verified long ago: a changed test definition forgets
    the verified horizons (their hash no longer matches)."""
    project_copy.edit(
        "models/intermediate/stg_daily_activity.yml",
        "arguments: {min_value: 0, max_value: 200000}",
        "arguments: {min_value: 0, max_value: 30000}",
    )
    result = project_copy.dbt("test", "--select", "stg_daily_activity", *NO_UNIT_TESTS)
    assert not result.success
    assert result.failed_tests == ["range_stg_daily_activity_steps__30000__0"]
    assert verified_horizons(kit) == 0
