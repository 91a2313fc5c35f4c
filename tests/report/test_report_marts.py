"""The report's marts on a real build (tests/report/conftest.py): the personal step baseline
and each day's percent of it against the generated files, the records per source and day
against the files' lines, the quiet day flagged, and an incremental build after a late file
equal to a full refresh.

The unit tests in the marts' yml pin the rules on small fixtures (they run in the dbt test
module's build); these check the same rules on a whole generated study. The last test adds
a load, so it is the last of the package's modules (pytest runs them in name order).
"""

from __future__ import annotations

import statistics
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from wearable_pipeline.ingest.loader import ingest_paths

from .conftest import PILOT_USER, QUIET_DATE, Study
from .helpers import daily_steps, lines_per_date, rows_of

pytestmark = pytest.mark.slow

BASELINE_DAYS = 14
TENTH = Decimal("0.1")


def expected_baselines(study: Study) -> dict[str, tuple[int, Decimal | None, date | None]]:
    """Per user: active days, the median of the first 14 days with steps, its last day."""
    expected = {}
    steps = daily_steps(study.files["fitbit_daily_activity"])
    steps[PILOT_USER] = {date(2024, 1, 19): 4200, date(2024, 1, 20): 3900}
    for user, days in steps.items():
        active = [(day, days[day]) for day in sorted(days) if days[day] > 0]
        if len(active) < BASELINE_DAYS:
            expected[user] = (len(active), None, None)
            continue
        window = active[:BASELINE_DAYS]
        median = Decimal(str(statistics.median(value for _, value in window)))
        expected[user] = (len(active), median.quantize(TENTH), window[-1][0])
    return expected


def test_baseline_is_the_median_of_the_first_14_active_days(study: Study) -> None:
    expected = expected_baselines(study)
    rows = study.query(
        "select user_id, active_days, baseline_steps, baseline_end_date, has_baseline"
        " from marts.user_step_baseline"
    )
    actual = {user: (days, steps, end) for user, days, steps, end, _ in rows}
    assert actual == expected
    assert {user: has for user, *_, has in rows} == {
        user: steps is not None for user, (_, steps, _) in expected.items()
    }
    # the study has both kinds: participants with a baseline, and the pilot without one
    assert expected[PILOT_USER][1] is None
    assert sum(steps is not None for _, steps, _ in expected.values()) >= 3


def test_each_active_day_against_the_baseline(study: Study) -> None:
    baselines = {user: steps for user, (_, steps, _) in expected_baselines(study).items()}
    rows = study.query(
        "select user_id, summary_date, steps, pct_of_baseline, delta_from_baseline"
        " from marts.daily_steps_vs_baseline"
    )
    compared = 0
    for user, _, steps, pct, delta in rows:
        baseline = baselines.get(user)
        if baseline is None or not steps:
            assert (pct, delta) == (None, None), (user, steps)
            continue
        expected_pct = (Decimal(100) * steps / baseline).quantize(TENTH, ROUND_HALF_UP)
        assert pct == expected_pct and delta == steps - baseline, (user, steps, baseline)
        compared += 1
    assert compared >= 3 * 14


def test_records_per_source_and_day_are_the_files_lines(study: Study) -> None:
    volume = {
        (source, day): rows
        for source, day, rows in study.query(
            "select source_format, volume_date, source_rows from marts.source_volume_daily"
        )
    }
    for source, date_column in [
        ("fitbit_daily_activity", "ActivityDate"),
        ("fitbit_hourly_steps", "ActivityHour"),
        ("fitbit_hourly_calories", "ActivityHour"),
        ("fitbit_heartrate_seconds", "Time"),
    ]:
        lines = lines_per_date(study.files[source], date_column)
        days = {day for (name, day) in volume if name == source}
        assert days == {date(2024, 1, day) for day in range(1, 22)}, source
        for day in days:
            assert volume[(source, day)] == lines.get(day, 0), (source, day)
    assert volume[("fitbit_hourly_steps", QUIET_DATE)] == 0
    # the pilot's canonical file: two days (its broken line went to raw.rejected_rows)
    assert volume[("canonical_daily_activity", date(2024, 1, 19))] == 1
    assert volume[("canonical_daily_activity", date(2024, 1, 20))] == 1
    events = dict(
        study.query(
            "select event_local_date, count(*) from staging.stg_events"
            " where user_id is not null group by 1"
        )
    )
    assert events and all(volume[("analytics_events", day)] == n for day, n in events.items())


def test_the_quiet_day_is_an_anomaly_of_its_source_only(study: Study) -> None:
    flagged = study.query(
        "select source_format, volume_date, history_days, trailing_median_rows"
        " from marts.source_volume_daily where is_anomaly"
    )
    hourly = [row for row in flagged if row[0].startswith("fitbit_hourly_")]
    users = len(daily_steps(study.files["fitbit_daily_activity"]))
    assert hourly == [("fitbit_hourly_steps", QUIET_DATE, 7, Decimal(24 * users))]
    assert all(history == 7 for _, _, history, _ in flagged)
    # the day after is judged against a median the quiet day did not move
    (after,) = study.query(
        "select is_anomaly, trailing_median_rows from marts.source_volume_daily"
        " where source_format = 'fitbit_hourly_steps' and volume_date = %s",
        [date(2024, 1, 16)],
    )
    assert after == (False, Decimal(24 * users))


def test_a_late_file_reaches_the_counts_incrementally(study: Study, tmp_path) -> None:
    """The quiet day's hourly steps arrive late for two participants: an incremental run
    recomputes their user-days only, and equals a full refresh."""
    original = rows_of(study.files["fitbit_hourly_steps"])
    users = sorted({row["Id"] for row in original})[:2]
    late = tmp_path / "late" / "hourlySteps_merged.csv"
    late.parent.mkdir()
    late.write_text(
        "Id,ActivityHour,StepTotal\n"
        + "".join(
            f"{user},1/15/2024 {h % 12 or 12}:00:00 {'AM' if h < 12 else 'PM'},{h}\n"
            for user in users
            for h in range(24)
        ),
        encoding="utf-8",
    )
    report = ingest_paths(study.database_url, [late], drop_dir=late.parent)
    assert [f.status for f in report.files] == ["loaded"]
    ((written_before,),) = study.query(
        "select max(dbt_write_id) from intermediate.int_source_rows_daily"
    )
    # the late file's path to the counts, each model incremental
    path = ["stg_fitbit__hourly_steps", "hourly_activity", "int_source_rows_daily"]
    study.dbt("run", "--select", *path, "source_volume_daily")

    rewritten = study.query(
        "select distinct user_id, volume_date from intermediate.int_source_rows_daily"
        " where dbt_write_id > %s",
        [written_before],
    )
    assert sorted(rewritten) == [(user, QUIET_DATE) for user in users]
    counts = (
        "select source_format, user_id, volume_date, source_rows"
        " from intermediate.int_source_rows_daily"
    )
    volume = (
        "select source_format, volume_date, source_rows, is_anomaly from marts.source_volume_daily"
    )
    incremental = (set(study.query(counts)), set(study.query(volume)))
    # 2 of 5 participants: still far below the median of 120 hours
    assert ("fitbit_hourly_steps", QUIET_DATE, 48, True) in incremental[1]

    study.dbt("run", "--full-refresh", "--select", "int_source_rows_daily", "source_volume_daily")
    assert (set(study.query(counts)), set(study.query(volume))) == incremental
