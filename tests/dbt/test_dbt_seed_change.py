"""A change to the source_priority seed reaches the incremental mart without --full-refresh.

The mart finds the user-days to redo from its inputs' write ids; the seed has none, so
the mart stores a hash of the seed's contents and recomputes every user-day when it differs
(dbt/macros/model_inputs.sql). Here a user-day has a Fitbit and a canonical source; the
seed first ranks Fitbit first for steps, then, edited, the canonical source.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.slow

USER = "1503960366"
DAY = date(2016, 4, 14)
OTHER_DAY = date(2016, 4, 20)
# The seed and the mart: what a seed change involves.
MART = ["--select", "source_priority", "daily_user_summary", "--exclude-resource-type", "unit_test"]
SUMMARY = (
    "select user_id, summary_date, steps, steps_source, distance_km, calories_kcal,"
    " minutes_asleep from marts.daily_user_summary order by 1, 2"
)


def day(kit: Any, summary_date: date) -> tuple[Any, ...]:
    (row,) = kit.query(
        "select steps, steps_source, dbt_write_id from marts.daily_user_summary"
        " where user_id = %s and summary_date = %s",
        [USER, summary_date],
    )
    return row


@pytest.fixture(scope="module")
def runs(kit: Any, project_copy: Any) -> dict[str, Any]:
    kit.load_fitbit_csvs()
    kit.ingest_rows(
        "canonical_daily_activity.csv",
        [{"user_id": USER, "date": "2016-04-14", "steps": "99999", "sedentary_minutes": "600"}],
    )
    first = project_copy.dbt("build", "--exclude-resource-type", "unit_test")
    before = {"day": day(kit, DAY), "other": day(kit, OTHER_DAY)}
    project_copy.edit(
        "seeds/source_priority.csv",
        "steps,fitbit_daily_activity,1\nsteps,fitbit_daily_steps,2\nsteps,canonical_daily_activity,3",
        "steps,fitbit_daily_activity,3\nsteps,fitbit_daily_steps,2\nsteps,canonical_daily_activity,1",
    )
    changed = project_copy.dbt("build", *MART)
    after = {"day": day(kit, DAY), "other": day(kit, OTHER_DAY), "summary": kit.query(SUMMARY)}
    unchanged = project_copy.dbt("build", *MART)
    again = {"other": day(kit, OTHER_DAY)}
    rebuilt = project_copy.dbt("run", "--full-refresh", "--select", "daily_user_summary")
    return {
        "first": first,
        "before": before,
        "changed": changed,
        "after": after,
        "unchanged": unchanged,
        "again": again,
        "rebuilt": rebuilt,
        "full_refresh_summary": kit.query(SUMMARY),
    }


def test_every_build_succeeds(runs: dict[str, Any]) -> None:
    for name in ("first", "changed", "unchanged", "rebuilt"):
        assert runs[name].success, runs[name].summary()


def test_the_seed_decides_first_for_fitbit(runs: dict[str, Any]) -> None:
    steps, source, _ = runs["before"]["day"]
    assert source == "fitbit_daily_activity" and steps != 99999


def test_an_edited_seed_reaches_the_mart_incrementally(runs: dict[str, Any]) -> None:
    steps, source, _ = runs["after"]["day"]
    assert (steps, source) == (99999, "canonical_daily_activity")


def test_a_seed_change_recomputes_every_user_day(runs: dict[str, Any]) -> None:
    assert runs["after"]["other"][2] > runs["before"]["other"][2]
    assert runs["after"]["summary"] == runs["full_refresh_summary"]


def test_an_unchanged_seed_recomputes_nothing(runs: dict[str, Any]) -> None:
    assert runs["again"]["other"] == runs["after"]["other"]
