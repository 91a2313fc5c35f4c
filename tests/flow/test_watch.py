"""`wearable watch`: a run per landed file, never on a half-written one, and a clean stop."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from wearable_pipeline.orchestration import processes
from wearable_pipeline.orchestration.watch import drop_files, is_drop_file, wait_until_settled

from .helpers import FITBIT, WEARABLE, copy_fixture, finished_runs, stop_process, wait_for

if TYPE_CHECKING:
    from .conftest import PrefectServer

SETTLE_S = 1.5


@pytest.mark.parametrize(
    ("name", "is_drop"),
    [
        ("dailyActivity_merged.csv", True),
        ("sleepDay_merged.CSV", True),
        ("export.csv.gz", True),
        (".dailyActivity_merged.csv.swp", False),
        (".hidden.csv", False),
        ("dailyActivity_merged.csv.part", False),
        ("dailyActivity_merged.csv~", False),
        ("notes.txt", False),
    ],
)
def test_only_finished_csv_names_are_drops(name: str, is_drop: bool) -> None:
    assert is_drop_file(Path("data") / name) is is_drop


def test_a_folder_moved_in_counts_with_its_csv_files(tmp_path: Path) -> None:
    export = tmp_path / "alice"
    (export / "deep").mkdir(parents=True)
    for name in ("oura.csv", "deep/sleeps.csv", "readme.md", ".partial.csv"):
        (export / name).write_text("x\n")
    assert drop_files([export]) == [export / "deep" / "sleeps.csv", export / "oura.csv"]


def test_settling_waits_while_a_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "growing.csv"
    path.write_text("header\n")
    writes = 6

    def writer() -> None:
        for i in range(writes):
            time.sleep(0.3)
            with path.open("a") as handle:
                handle.write(f"row {i}\n")

    thread = threading.Thread(target=writer)
    started = time.monotonic()
    thread.start()
    settled = wait_until_settled([path], settle_seconds=1.0, stop=threading.Event(), poll=0.1)
    thread.join()
    assert time.monotonic() - started >= writes * 0.3 + 1.0 - 0.2
    assert settled[path][0] == path.stat().st_size  # the size once complete


def test_watch_runs_once_per_drop_never_on_a_half_written_file_and_stops_on_sigterm(
    fresh_database_url: str, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    home = prefect_server.home
    models = ["--select", "+stg_daily_activity", "--select", "+stg_sleep"]  # little dbt work
    watcher = subprocess.Popen(
        [*WEARABLE, "watch", str(drop), "--settle", str(SETTLE_S), "--skip-tests", *models],
        env=prefect_server.cli_env(DATABASE_URL=fresh_database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: any(p.pid == watcher.pid for p in processes.running(home)),
            120,
            "the watcher to start",
        )
        time.sleep(1)  # the file-system watch itself is set up right after

        # A file dropped whole: one run loads it.
        copy_fixture("dailyActivity_merged.csv", drop / "fitbit")
        runs = wait_for(lambda: finished_runs(fresh_database_url), 180, "the first run")
        assert [(run[1], run[3], run[4]) for run in runs] == [("succeeded", 1, 940)]

        # A file written slowly, pausing less than the settle period between writes.
        _write_slowly(FITBIT / "sleepDay_merged.csv", drop / "fitbit" / "sleepDay_merged.csv")
        runs = wait_for(
            lambda: (r := finished_runs(fresh_database_url)) and len(r) >= 2 and r,
            180,
            "the second run",
        )
        # Long enough for a stray third run to have been noticed (debounce + settle).
        time.sleep(SETTLE_S + 2)
        assert len(finished_runs(fresh_database_url)) == 2

        # SIGTERM (a service manager's stop) during a run: the run finishes, then the watcher.
        copy_fixture("dailyActivity_merged.csv", drop / "again")
        wait_for(lambda: _running_runs(fresh_database_url), 120, "a third run to start")
    finally:
        out, err = stop_process(watcher, timeout=180)
    assert watcher.returncode == 0, err[-3000:]
    assert "stopped watching" in out
    assert "stopping after the current run" in err
    with psycopg.connect(fresh_database_url) as conn:
        last = conn.execute(
            "select status, files_loaded from ops.pipeline_runs order by started_at desc limit 1"
        ).fetchone()
    assert last == ("succeeded", 0)  # the same content again: skipped, but a whole run

    assert [(run[1], run[3], run[4]) for run in runs[:2]] == [
        ("succeeded", 1, 940),
        ("succeeded", 1, 413),
    ]
    with psycopg.connect(fresh_database_url) as conn:
        loads = conn.execute(
            "select status, rows_loaded, rows_rejected from ops.file_loads"
            " where path like '%sleepDay_merged.csv'"
        ).fetchall()
    assert loads == [("loaded", 413, 0)]  # loaded once, whole
    assert not any(p.pid == watcher.pid for p in processes.running(home))


def _running_runs(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select count(*) from ops.pipeline_runs where status = 'running'")
        return int(row.fetchone()[0])


def _write_slowly(source: Path, target: Path, chunks: int = 6, pause: float = 0.5) -> None:
    """Copy `source` in chunks with pauses, as a slow upload or a copy over a network does."""
    data = source.read_bytes()
    size = len(data) // chunks + 1
    with target.open("wb") as handle:
        for start in range(0, len(data), size):
            handle.write(data[start : start + size])
            handle.flush()
            time.sleep(pause)
