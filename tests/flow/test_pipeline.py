"""The whole pipeline as users run it: the Prefect flow on real Fitbit data plus events.

Slow-ish (real dbt runs, the session's resident Prefect server), so each test does one run
and checks everything it can about it.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from wearable_pipeline.config import Settings
from wearable_pipeline.events.generator import generate_events, post_events
from wearable_pipeline.events.server_process import EventApiProcess
from wearable_pipeline.orchestration.runner import RunOptions, run_pipeline

if TYPE_CHECKING:
    from .conftest import PrefectServer

FITBIT = Path(__file__).parents[1] / "fixtures" / "fitbit"
EVENT_USERS, EVENT_DAYS, EVENT_SEED = 5, 3, 7


def _settings(database_url: str, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    (data_dir / "fitbit").mkdir(parents=True)
    for name in ("dailyActivity_merged.csv", "sleepDay_merged.csv"):
        shutil.copy(FITBIT / name, data_dir / "fitbit" / name)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        home=tmp_path / "home",
        data_dir=data_dir,
        lake_dir=str(tmp_path / "lake"),
    )


def _expected_steps_per_user() -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    with open(FITBIT / "dailyActivity_merged.csv", newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            totals[row["Id"]] += int(row["TotalSteps"])
    return dict(totals)


def _expected_minutes_asleep_per_user() -> dict[str, int]:
    """Exact duplicate rows in the export are one night, counted once."""
    totals: dict[str, int] = defaultdict(int)
    with open(FITBIT / "sleepDay_merged.csv", newline="", encoding="utf-8-sig") as handle:
        unique_rows = {tuple(row.items()) for row in csv.DictReader(handle)}
    for row in map(dict, unique_rows):
        totals[row["Id"]] += int(row["TotalMinutesAsleep"])
    return dict(totals)


def test_flow_on_real_fitbit_data_and_events_succeeds(
    fresh_database_url: str, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    settings = _settings(fresh_database_url, tmp_path)
    events = list(generate_events(users=EVENT_USERS, days=EVENT_DAYS, seed=EVENT_SEED))
    with EventApiProcess(fresh_database_url, tmp_path / "api.log") as api:
        posted = post_events(api.events_url, events, batch_size=100)
    assert posted["accepted"] == len(events)

    outcome = run_pipeline(settings)

    run = outcome.run
    assert run.status == "succeeded", run.error
    assert run.rows_ingested == 940 + 413
    assert run.files_loaded == 2
    assert run.models_built >= 4
    assert run.tests_passed > 0 and run.tests_failed == 0 and run.failed_tests == []
    assert set(run.step_durations) == {
        "migrate",
        "ingest",
        "lake_export",  # a lake is configured: the loads and events go there too
        "dbt_startup",  # the wait for the run's dbt worker (0 when it was ready in time)
        "dbt_seed",
        "dbt_run",
        "dbt_test",
    }
    assert outcome.summary["lake_export"]["rows"] == 940 + 413 + len(events)
    assert len(list((tmp_path / "lake").glob("raw/*/_load_id=*/part-00000.parquet"))) == 2
    assert run.flow_run_id is not None
    assert outcome.flow_run_url == (
        f"{prefect_server.api_url.removesuffix('/api')}/runs/flow-run/{run.flow_run_id}"
    )

    with psycopg.connect(fresh_database_url) as conn:
        steps = dict(
            conn.execute(
                "select user_id, sum(steps)::bigint from marts.daily_user_summary"
                " where steps is not null group by user_id"
            ).fetchall()
        )
        asleep = dict(
            conn.execute(
                "select user_id, sum(minutes_asleep)::bigint from marts.daily_user_summary"
                " where minutes_asleep is not null group by user_id"
            ).fetchall()
        )
        events_per_user = dict(
            conn.execute(
                "select user_id, sum(event_count)::bigint from marts.daily_user_summary"
                " where event_count > 0 group by user_id"
            ).fetchall()
        )
        recorded = conn.execute(
            "select status, rows_ingested from ops.pipeline_runs where run_id = %s", [run.run_id]
        ).fetchone()
    assert steps == _expected_steps_per_user()
    assert asleep == _expected_minutes_asleep_per_user()
    # Activity before sign-in counts for the user: the identify event of a signed-out session
    # ties its anonymous id to the user (stitching, in stg_events).
    signed_in_as = {
        e["anonymous_id"]: e["user_id"]
        for e in events
        if e["event_name"] == "identify" and e.get("anonymous_id") and e.get("user_id")
    }
    assert signed_in_as  # the generator's signed-out sessions sign in part-way
    owners = Counter(e.get("user_id") or signed_in_as.get(e.get("anonymous_id")) for e in events)
    assert events_per_user == {user: count for user, count in owners.items() if user}
    assert sum(events_per_user.values()) > sum(1 for e in events if e.get("user_id"))
    assert recorded == ("succeeded", 940 + 413)

    assert outcome.summary["tests"]["unit_tests"] == 0  # data tests only, unless asked

    # A second run finds nothing new to load and still succeeds; asked, it runs unit tests.
    again = run_pipeline(settings, RunOptions(select=["daily_user_summary"], unit_tests=True))
    assert again.run.status == "succeeded", again.run.error
    assert again.run.rows_ingested == 0
    assert again.summary["tests"]["unit_tests"] >= 1


def test_broken_raw_row_and_rejected_file_fail_the_run_naming_both(
    fresh_database_url: str, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    settings = _settings(fresh_database_url, tmp_path)
    broken = tmp_path / "data" / "broken" / "dailyActivity_merged.csv"
    broken.parent.mkdir()
    with open(FITBIT / "dailyActivity_merged.csv", newline="", encoding="utf-8-sig") as handle:
        header = handle.readline().strip()
    broken.write_text(
        f"{header}\r\n9999999999,5/1/2016,-500,1.5,1.5,0,0,0,1.5,0,0,0,60,1380,1500\r\n"
    )
    # A sleep file without its minutes columns: rejected whole, the rest still loads.
    (broken.parent / "sleepDay_merged.csv").write_text("Id,SleepDay\n1,4/12/2016 12:00:00 AM\n")
    # PREFECT_API_URL (the session's server) is inherited: the "your own server" path
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "WEARABLE_HOME": str(settings.home),
        "WEARABLE_DATA_DIR": str(settings.data_dir),
    }
    # The failure's path needs only the two files' models (the flow test and the demo build
    # the whole project): a run selects them as `wearable watch` users do.
    models = ["--select", "+stg_daily_activity", "--select", "+stg_sleep"]
    completed = subprocess.run(
        [sys.executable, "-m", "wearable_pipeline.cli", "run", *models],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "failing dbt tests" in completed.stderr
    with psycopg.connect(fresh_database_url) as conn:
        status, failed_tests, rejected_files, rows_ingested = conn.execute(
            "select status, failed_tests, rejected_files, rows_ingested from ops.pipeline_runs"
            " order by started_at desc limit 1"
        ).fetchone()
    assert status == "failed"
    assert rows_ingested == 940 + 413 + 1  # the good files and the broken row all landed
    assert any("steps" in name for name in failed_tests), failed_tests
    for name in failed_tests:
        assert name in completed.stderr
    assert len(rejected_files) == 1 and "TotalMinutesAsleep" in rejected_files[0]
    assert "files not loaded" in completed.stderr and "sleepDay_merged.csv" in completed.stderr
