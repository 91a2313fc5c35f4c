"""The tests bite: bad raw data makes `dbt test` fail, naming exactly the tests that guard it.

On top of the real Fitbit files, built and tested green first (so every data test has a
mark and reads only rows written since: dbt/macros/test_scope.sql), three new loads bring: a
negative step count, a night with more minutes asleep than in bed, and a re-exported day
holding two different rows for the same user and date. Models build (staging never crashes
on bad values); `dbt test` then fails with the range, expression and grain tests - and
nothing else.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def green(kit: Any) -> DbtResult:
    kit.load_fitbit_csvs()
    return kit.dbt("build")


@pytest.fixture(scope="module")
def built(green: DbtResult, kit: Any) -> DbtResult:
    negative = kit.fitbit_activity_row("1624580081", "4/12/2016", "-5")
    kit.ingest_rows("dailyActivity_negative.csv", [negative])
    kit.ingest_rows(
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
    kit.ingest_rows(
        "dailyActivity_duplicated_day.csv",
        [
            kit.fitbit_activity_row("1503960366", "4/20/2016", "1000"),
            kit.fitbit_activity_row("1503960366", "4/20/2016", "2000"),
        ],
    )
    return kit.dbt("build", "--resource-type", "seed", "--resource-type", "model")


@pytest.fixture(scope="module")
def tested(built: DbtResult, kit: Any) -> DbtResult:
    return kit.dbt("test")


def test_the_tests_run_incrementally(green: DbtResult, tested: DbtResult, kit: Any) -> None:
    """The failures below come from tests that read only the rows after their marks."""
    assert green.success, green.summary()
    compiled = (
        kit.target_path
        / "run/wearable/models/staging/stg_daily_activity.yml"
        / "range_stg_daily_activity_steps__200000__0.sql"
    ).read_text()
    assert "where dbt_loaded_at > cast('" in compiled
    marked = kit.query("select count(*) from dbt_state.test_marks")[0][0]
    assert marked == green.tests_passed - sum(
        1 for n in green.nodes if n.resource_type == "unit_test"
    )


def test_bad_values_do_not_break_the_models(built: DbtResult) -> None:
    assert built.success, built.summary()
    assert built.models_built == 4


def test_dbt_test_fails(tested: DbtResult) -> None:
    assert not tested.success
    assert tested.exit_code == 1
    assert tested.exception is None


def test_the_failing_tests_are_exactly_the_guards_of_the_bad_data(tested: DbtResult) -> None:
    assert set(tested.failed_tests) == EXPECTED_FAILURES
    assert tested.tests_failed == len(EXPECTED_FAILURES)
    assert tested.tests_passed > 50


def test_failures_point_at_the_bad_rows(tested: DbtResult) -> None:
    failures = {n.name: n.failures for n in tested.tests if n.failed}
    assert failures["range_stg_daily_activity_steps__200000__0"] == 1
    assert failures["stg_sleep_asleep_within_time_in_bed"] == 1
    assert (
        failures[
            "unique_combination_of_columns_stg_daily_activity_user_id__activity_date__source_format"
        ]
        == 1
    )
