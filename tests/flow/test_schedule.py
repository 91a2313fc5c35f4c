"""`wearable schedule`: a deployment with its cron schedule in Prefect, runs that Prefect
starts recorded like any other, and a clean stop that pauses the schedule."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import ObjectNotFound

from wearable_pipeline.db import embedded

from .helpers import WEARABLE, copy_fixture, finished_runs, stop_process, unique, wait_for

if TYPE_CHECKING:
    from .conftest import PrefectServer


def _deployment(name: str) -> Any:
    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(f"wearable_pipeline/{name}")
        except ObjectNotFound:
            return None


def test_schedule_registers_a_cron_deployment_whose_runs_are_recorded(
    fresh_database_url: str, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    name = unique("nightly")
    data_dir = tmp_path / "data"
    copy_fixture("sleepDay_merged.csv", data_dir / "fitbit")
    command = [*WEARABLE, "schedule", "--cron", "0 2 * * *", "--timezone", "Europe/Berlin"]
    command += ["--name", name, "--skip-tests", "--select", "+stg_sleep"]
    env = prefect_server.cli_env(DATABASE_URL=fresh_database_url, WEARABLE_DATA_DIR=str(data_dir))
    scheduler = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deployment = wait_for(lambda: _deployment(name), 120, "the deployment")
        [schedule] = deployment.schedules
        assert isinstance(schedule.schedule, CronSchedule)
        cron = schedule.schedule
        assert (cron.cron, cron.timezone) == ("0 2 * * *", "Europe/Berlin")
        assert schedule.active and not deployment.paused
        assert deployment.parameters["skip_tests"] is True

        # A second process serving the same deployment would replace this one's schedule,
        # and stopping either would pause both: refused, naming the first.
        twin = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert twin.returncode == 2, twin.stdout + twin.stderr
        assert f"already served by pid {scheduler.pid}" in " ".join(twin.stderr.split())

        # Rather than wait for 02:00: a run of the deployment now, as the UI's "Run" button
        # makes one. The scheduler runs it in a process of its own.
        with get_client(sync_client=True) as client:
            flow_run = client.create_flow_run_from_deployment(deployment.id)

        def finished() -> Any:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(flow_run.id).state
            return state if state is not None and state.is_final() else None

        state = wait_for(finished, 240, "the deployment's run")
        assert state.is_completed(), state
    finally:
        out, err = stop_process(scheduler)
    assert scheduler.returncode == 0, err[-3000:]
    assert "the schedule is paused" in out

    [(_, status, flow_run_id, files_loaded, rows, options)] = finished_runs(fresh_database_url)
    assert (status, flow_run_id, files_loaded, rows) == ("succeeded", flow_run.id, 1, 413)
    assert options["skip_tests"] is True
    # Prefect paused the deployment when the scheduler stopped: nothing runs at 02:00 unserved;
    # the next `wearable schedule` resumes it.
    assert _deployment(name).paused
    again = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: not _deployment(name).paused, 120, "the schedule to resume")
    finally:
        stop_process(again)


@pytest.mark.parametrize(
    ("cron", "name", "said"),
    [
        ("every night", "bad", "every night"),
        ("0 2 31 2 *", "feb31", "'0 2 31 2 *' (UTC): no date ever matches it"),  # valid, never
        ("0 0 2 * * *", "quartz", "five fields please"),  # Prefect: seconds, after the weekday
        ("0 2 * * *", "nightly/berlin", "'nightly/berlin': give a name, without '/' or '%'"),
        ("0 2 * * *", "", "deployment name '': give a name"),
    ],
)
def test_a_bad_schedule_is_refused_before_the_database_starts(
    prefect_server: PrefectServer, tmp_path: Path, cron: str, name: str, said: str
) -> None:
    """A usage error, said at once: no database started (none is set, so the embedded one
    would be), no server waited for (the session's, as the user's own: nothing to start)."""
    env = prefect_server.cli_env(
        WEARABLE_HOME=str(tmp_path), PREFECT_API_URL=prefect_server.api_url
    )
    env.pop("DATABASE_URL", None)
    completed = subprocess.run(
        [*WEARABLE, "schedule", "--cron", cron, "--timezone", "UTC", "--name", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert said in " ".join(completed.stderr.split())
    assert not embedded.pgdata_dir(tmp_path).exists()
