"""The resident Prefect server: reused by every run, visible in Prefect's API, stopped on demand.

Real processes throughout: `wearable run` / `prefect start` / `watch` / `stop` as users start
them, a real `prefect server start`, and Prefect's own client (the API its UI reads).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from typer.testing import CliRunner

from wearable_pipeline.cli import app
from wearable_pipeline.config import Settings
from wearable_pipeline.db import embedded
from wearable_pipeline.orchestration import prefect_server as resident
from wearable_pipeline.orchestration import processes
from wearable_pipeline.orchestration.prefect_env import configure_prefect, wait_until_ready

from .helpers import WEARABLE, copy_fixture, finished_runs, wait_for

if TYPE_CHECKING:
    from .conftest import PrefectServer

STEPS = {"migrate", "ingest", "dbt seed", "dbt run", "dbt test"}


def test_two_runs_in_a_row_reuse_the_server_and_show_in_prefect_and_the_database(
    fresh_database_url: str, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    data_dir = tmp_path / "data"
    copy_fixture("dailyActivity_merged.csv", data_dir / "fitbit")
    env = prefect_server.cli_env(DATABASE_URL=fresh_database_url, WEARABLE_DATA_DIR=str(data_dir))
    server_before = resident.running(prefect_server.home)

    records = []
    # the second run asks for flow-run heartbeats, which runs here leave out by default
    for extra_env in ({}, {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}):
        completed = subprocess.run(
            # the dbt work kept small: this test is about the runs, not the models
            [*WEARABLE, "run", "--skip-tests", "--select", "+stg_daily_activity", "--json"],
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
        record = json.loads(completed.stdout)
        records.append(record)

    # Both used the resident server already running: not restarted, no start-up paid. (How
    # long a run's fixed cost is depends on the machine's load: bench/pipeline.py measures it,
    # a wall-clock bound here would only make the test flaky.)
    assert resident.running(prefect_server.home) == server_before

    ui = prefect_server.api_url.removesuffix("/api")
    with get_client(sync_client=True) as client:
        for record in records:
            assert record["flow_run_url"] == f"{ui}/runs/flow-run/{record['flow_run_id']}"
            flow_run = client.read_flow_run(uuid.UUID(record["flow_run_id"]))
            assert flow_run.state is not None and flow_run.state.is_completed()
            assert flow_run.flow_id is not None
            by_run = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
            tasks = client.read_task_runs(flow_run_filter=by_run)
            assert {task.name.rsplit("-", 1)[0] for task in tasks} == STEPS - {"dbt test"}
            assert all(task.state is not None and task.state.is_completed() for task in tasks)
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
            )
            assert any("dailyActivity_merged.csv" in log.message for log in logs)

        def heartbeats(record: dict[str, str]) -> int:
            found = client.read_events(
                filter=EventFilter(
                    event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
                    resource=EventResourceFilter(id=[f"prefect.flow-run.{record['flow_run_id']}"]),
                ),
                limit=1,  # the count is in `total` (the default, 100, is over the API's 50)
            )
            return found.total

        # events are stored asynchronously: once the second run's is in, the first's would be
        wait_for(lambda: heartbeats(records[1]), 30, "the asked-for heartbeat of the second run")
        assert heartbeats(records[0]) == 0

    recorded = {
        str(run_id): (status, str(flow_run_id), rows)
        for run_id, status, flow_run_id, _, rows, _ in finished_runs(fresh_database_url)
    }
    assert recorded == {
        records[0]["run_id"]: ("succeeded", records[0]["flow_run_id"], 940),
        records[1]["run_id"]: ("succeeded", records[1]["flow_run_id"], 0),  # nothing new
    }


def test_first_starts_race_to_one_server_and_wearable_stop_stops_everything(
    tmp_path: Path,
) -> None:
    """Two processes needing the server at once start one; `wearable stop` stops it all."""
    home = tmp_path / "home"
    unmanaged = {"PREFECT_API_URL", "PREFECT_HOME", "DATABASE_URL"}  # everything ours, here
    env = {k: v for k, v in os.environ.items() if k not in unmanaged}
    env["WEARABLE_HOME"] = str(home)
    starts = [
        subprocess.Popen(
            [*WEARABLE, "prefect", "start"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [start.communicate(timeout=300) for start in starts]
    try:
        assert [start.returncode for start in starts] == [0, 0], outputs
        urls = {out.strip() for out, _ in outputs}
        server = resident.running(home)
        assert server is not None and urls == {server.ui_url}
        assert len(_server_processes(home)) == 1
        status = subprocess.run(
            [*WEARABLE, "prefect", "status"], env=env, capture_output=True, text=True
        )
        assert "running" in status.stdout and "healthy" in status.stdout, status.stdout

        # The rest of what `wearable stop` stops: the embedded database, a watcher, the API.
        embedded.ensure_running(home)
        drop = tmp_path / "drop"
        drop.mkdir()
        watcher = subprocess.Popen(
            [*WEARABLE, "watch", str(drop), "--no-catch-up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        api_port = _free_port()
        api = subprocess.Popen(
            [*WEARABLE, "serve", "--port", str(api_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(
            lambda: len(processes.running(home)) == 2, 120, "the watcher and the API to record"
        )
        wait_for(lambda: _answers(f"http://127.0.0.1:{api_port}/health"), 60, "the API")
    finally:
        stopped = subprocess.run([*WEARABLE, "stop"], env=env, capture_output=True, text=True)
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped watch (pid {watcher.pid}" in stopped.stdout, stopped.stdout
    assert f"stopped api (pid {api.pid}" in stopped.stdout, stopped.stdout
    assert "Prefect server stopped" in stopped.stdout
    assert "embedded PostgreSQL stopped" in stopped.stdout
    out, _ = watcher.communicate(timeout=30)
    assert watcher.returncode == 0 and "stopped watching" in out
    _, api_err = api.communicate(timeout=30)
    assert api.returncode == 0, api_err  # uvicorn's graceful exit on SIGTERM
    assert not _answers(f"http://127.0.0.1:{api_port}/health")
    assert resident.running(home) is None and not _server_processes(home)
    assert not embedded.status(home).running and processes.running(home) == []


def test_prefect_commands_leave_a_server_set_by_prefect_api_url_alone(
    monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    runner = CliRunner()
    status = runner.invoke(app, ["prefect", "status"])
    assert status.exit_code == 0
    assert "PREFECT_API_URL" in status.output and "not answering" in status.output
    stop = runner.invoke(app, ["prefect", "stop"])
    assert stop.exit_code == 2
    assert "does not manage" in stop.output
    url = runner.invoke(app, ["prefect", "url", "--api"])
    assert url.output.strip() == "http://127.0.0.1:9/api"


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    """WEARABLE_PREFECT_PORT taken by another program: the error says so, with the log."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(resident.PrefectServerError, match="exited while starting") as error:
            resident.ensure_running(tmp_path, port=port, timeout=120)
    assert f"Port {port} is already in use" in str(error.value)
    assert resident.running(tmp_path) is None


def test_a_restarted_server_keeps_its_address(tmp_path: Path) -> None:
    """Stopped and started again at once, the server keeps its port (the UI's bookmarks, the
    URLs runs printed), though the connections it closed still linger on that port."""
    process = resident.start(tmp_path)
    try:
        resident.wait_until_healthy(tmp_path, process)
        with httpx.Client() as client:  # a kept-alive connection the server closes on stop
            assert client.get(f"{process.api_url}/health").status_code == 200
            assert resident.stop(tmp_path)
        with socket.socket() as plain, pytest.raises(OSError):  # what made it move before
            plain.bind(("127.0.0.1", process.port))

        restarted = resident.start(tmp_path)
        assert restarted.pid != process.pid and restarted.port == process.port
    finally:
        resident.stop(tmp_path)


def test_a_run_points_prefect_at_a_starting_server_and_waits_only_before_its_first_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`configure_prefect(wait=False)` returns while the server starts (a run imports Prefect
    meanwhile); `wait_until_ready` then reports a server that could not start, with its log."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        api_url = f"http://127.0.0.1:{port}/api"
        # Prefect is already imported here, so configure_prefect insists the environment
        # already names this server; every variable it sets is restored afterwards.
        monkeypatch.setenv("PREFECT_API_URL", api_url)
        for variable in ("PREFECT_HOME", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"):
            monkeypatch.setenv(variable, os.environ.get(variable, ""))
        settings = Settings(_env_file=None, home=tmp_path, prefect_port=port, prefect_api_url=None)

        # returns (a server that cannot start would make any wait raise), with the server
        target = configure_prefect(settings, wait=False)

        assert target.managed and target.api_url == api_url
        assert target.process is not None and target.process.port == port
        with pytest.raises(resident.PrefectServerError, match="exited while starting") as error:
            wait_until_ready(settings, target)
    assert f"Port {port} is already in use" in str(error.value)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    """True when `GET url` answers 200 (False when nothing listens)."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _server_processes(home: Path) -> list[psutil.Process]:
    """`prefect server start` processes running in this home's Prefect folder."""
    folder = str(resident.prefect_home(home))
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = process.info["cmdline"] or []
        if "server" in cmdline and "start" in cmdline and process.info["cwd"] == folder:
            found.append(process)
    return found
