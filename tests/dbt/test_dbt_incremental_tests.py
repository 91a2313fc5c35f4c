"""Incremental data tests are safe: a test re-checks only rows written since it last passed,
and nothing it has not seen pass is ever skipped (dbt/macros/test_scope.sql).

One database, one copy of the dbt project (so that a test's definition can be changed), and
a sequence of runs:

1. the real Fitbit files, `dbt build`: green, every data test gets a mark;
2. a row planted with an old stamp is not read again; the compiled SQL reads rows after
   the mark only;
3. a bad load: `dbt test` fails, and fails again when nothing was fixed, and again after a
   `dbt build`;
4. the fix (a corrected re-export): green, the marks move on;
5. a changed test (same name, stricter expression) re-checks every old row;
6. a mark from a clock ahead of dbt's is dropped: the test re-checks everything.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from wearable_pipeline.transform.dbt import DbtResult

pytestmark = pytest.mark.slow

DAILY_ACTIVITY_CSV = (
    Path(__file__).parent.parent / "fixtures" / "fitbit" / "dailyActivity_merged.csv"
)
RANGE_STEPS = "range_stg_daily_activity_steps__200000__0"
MART_RANGE_STEPS = "range_daily_user_summary_steps__200000__0"
MINUTES_FIT = "stg_daily_activity_minutes_fit_in_a_day"
BAD_USER = "1624580081"


@pytest.fixture(scope="module")
def project(project_copy: Any) -> Any:
    return project_copy


def marks(kit: Any) -> dict[str, datetime]:
    rows = kit.query("select test_id, checked_through from dbt_state.test_marks")
    return {test_id.split(".")[2]: at for test_id, at in rows}


@pytest.fixture(scope="module")
def first(project: Any, kit: Any) -> dict[str, Any]:
    kit.load_fitbit_csvs()
    result = project.dbt("build")
    return {"result": result, "marks": marks(kit)}


@pytest.fixture(scope="module")
def planted(first: dict[str, Any], project: Any, kit: Any) -> dict[str, Any]:
    """A bad row with a stamp from before the mark, as if it had been checked: not read."""
    kit.query(
        "insert into staging.stg_daily_activity (user_id, source_format, load_id, activity_date,"
        " steps, dbt_loaded_at) select 'planted', 'fitbit_daily_activity', min(load_id),"
        " '2016-01-01', -1, min(dbt_loaded_at) from staging.stg_daily_activity returning 1"
    )
    try:
        result = project.dbt("test", "--select", "stg_daily_activity")
        compiled = project.compiled(f"models/staging/stg_daily_activity.yml/{RANGE_STEPS}.sql")
    finally:
        kit.query("delete from staging.stg_daily_activity where user_id = 'planted' returning 1")
    return {"result": result, "compiled": compiled}


@pytest.fixture(scope="module")
def failing(planted: dict[str, Any], project: Any, kit: Any) -> dict[str, Any]:
    """A load with a negative step count; tests run three times without a fix."""
    kit.ingest_rows(
        "dailyActivity_negative.csv", [kit.fitbit_activity_row(BAD_USER, "4/12/2016", "-5")]
    )
    models = project.dbt("build", "--resource-type", "seed", "--resource-type", "model")
    marks_before = marks(kit)
    once = project.dbt("test")
    twice = project.dbt("test")
    rebuilt = project.dbt("build")
    return {
        "models": models,
        "once": once,
        "twice": twice,
        "rebuilt": rebuilt,
        "marks_before": marks_before,
        "marks_after": marks(kit),
    }


@pytest.fixture(scope="module")
def fixed(failing: dict[str, Any], project: Any, kit: Any) -> dict[str, Any]:
    """A corrected re-export of the bad day (the newer load wins): green again."""
    kit.ingest_rows(
        "dailyActivity_fixed.csv", [kit.fitbit_activity_row(BAD_USER, "4/12/2016", "5")]
    )
    result = project.dbt("build")
    return {"result": result, "marks": marks(kit)}


@pytest.fixture(scope="module")
def changed(fixed: dict[str, Any], project: Any) -> DbtResult:
    """The same test (same name) with a stricter expression: every old row is re-checked."""
    project.edit(
        "models/staging/stg_daily_activity.yml",
        "+ sedentary_minutes <= 1440",
        "+ sedentary_minutes <= 1000",
    )
    return project.dbt("test", "--select", "stg_daily_activity")


# -- 1. a green build marks every data test ----------------------------------------------------


def test_a_green_build_marks_every_data_test_at_its_start(first: dict[str, Any], kit: Any) -> None:
    assert first["result"].success, first["result"].summary()
    marks = first["marks"]
    data_tests = [n for n in first["result"].nodes if n.resource_type == "test"]
    passed = {n.name for n in data_tests if n.status == "pass"}
    assert passed and set(marks) == passed
    # the build's start: the stamp of the rows it wrote and tested
    (stamp,) = kit.query("select max(dbt_loaded_at) from staging.stg_daily_activity")[0]
    assert set(marks.values()) == {stamp}


def test_a_warning_does_not_mark(first: dict[str, Any]) -> None:
    warned = [n.name for n in first["result"].nodes if n.status == "warn"]
    assert all(name not in first["marks"] for name in warned)


# -- 2. the next run reads only rows after the mark ---------------------------------------------


def test_rows_checked_before_the_mark_are_not_read_again(planted: dict[str, Any]) -> None:
    result = planted["result"]
    assert result.success, result.summary()
    assert RANGE_STEPS in {n.name for n in result.nodes if n.status == "pass"}


def test_the_compiled_test_reads_rows_after_the_mark(
    planted: dict[str, Any], first: dict[str, Any]
) -> None:
    mark = first["marks"][RANGE_STEPS]
    assert f"where dbt_loaded_at > cast('{mark.isoformat()}'" in planted["compiled"]


# -- 3. failures are never forgotten ------------------------------------------------------------


def test_a_bad_load_fails_the_guarding_tests(failing: dict[str, Any]) -> None:
    assert failing["models"].success, failing["models"].summary()
    assert set(failing["once"].failed_tests) == {RANGE_STEPS, MART_RANGE_STEPS}
    failures = {n.name: n.failures for n in failing["once"].nodes if n.failed}
    assert failures == {RANGE_STEPS: 1, MART_RANGE_STEPS: 1}


def test_running_the_tests_again_without_a_fix_still_fails(failing: dict[str, Any]) -> None:
    assert set(failing["twice"].failed_tests) == {RANGE_STEPS, MART_RANGE_STEPS}
    # a build stops at the failing staging test: the mart and its tests are skipped
    rebuilt = failing["rebuilt"]
    assert set(rebuilt.failed_tests) == {RANGE_STEPS}
    assert MART_RANGE_STEPS in rebuilt.skipped


def test_failing_tests_keep_their_marks_passing_ones_move_on(failing: dict[str, Any]) -> None:
    before, after = failing["marks_before"], failing["marks_after"]
    for name in (RANGE_STEPS, MART_RANGE_STEPS):
        assert after[name] == before[name]
    assert after[MINUTES_FIT] > before[MINUTES_FIT]


# -- 4. the fix -------------------------------------------------------------------------------


def test_the_fix_turns_the_build_green_and_moves_the_marks(
    fixed: dict[str, Any], failing: dict[str, Any]
) -> None:
    assert fixed["result"].success, fixed["result"].summary()
    assert fixed["marks"][RANGE_STEPS] > failing["marks_after"][RANGE_STEPS]


# -- 5. a changed test re-checks everything -----------------------------------------------------


def test_a_changed_test_rechecks_the_old_rows(changed: DbtResult) -> None:
    with DAILY_ACTIVITY_CSV.open(newline="", encoding="utf-8-sig") as handle:
        over = sum(
            1
            for row in csv.DictReader(handle)
            if int(row["VeryActiveMinutes"])
            + int(row["FairlyActiveMinutes"])
            + int(row["LightlyActiveMinutes"])
            + int(row["SedentaryMinutes"])
            > 1000
        )
    assert over > 100
    failures = {n.name: n.failures for n in changed.nodes if n.failed}
    # the fixture's day for BAD_USER was replaced by the fixed load: same sum as before
    assert failures == {MINUTES_FIT: over}


# -- 6. a mark from a clock ahead ---------------------------------------------------------------


@pytest.fixture(scope="module")
def clock_ahead(changed: DbtResult, project: Any, kit: Any) -> dict[str, Any]:
    kit.query(
        "update dbt_state.test_marks set checked_through = now() + interval '1 day'"
        " where test_id like %s returning 1",
        ["%.not_null_stg_sleep_user_id.%"],
    )
    result = project.dbt("test", "--select", "stg_sleep")
    return {
        "result": result,
        "compiled": project.compiled("models/staging/stg_sleep.yml/not_null_stg_sleep_user_id.sql"),
        "marks": marks(kit),
    }


def test_a_mark_from_a_clock_ahead_is_dropped(clock_ahead: dict[str, Any], kit: Any) -> None:
    assert clock_ahead["result"].success, clock_ahead["result"].summary()
    assert "dbt_loaded_at >" not in clock_ahead["compiled"]
    (now,) = kit.query("select now()")[0]
    assert clock_ahead["marks"]["not_null_stg_sleep_user_id"] < now
