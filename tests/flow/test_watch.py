"""`wearable watch`: a run per landed file, never on a half-written one, and a clean stop."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from wearable_pipeline.config import Settings
from wearable_pipeline.orchestration import processes
from wearable_pipeline.orchestration.watch import (
    StopRequests,
    WatchConfig,
    WatchedFolderGone,
    drop_files,
    is_drop_file,
    wait_until_settled,
    watch_folder,
)

from .helpers import FITBIT, WEARABLE, copy_fixture, finished_runs, stop_process, wait_for

if TYPE_CHECKING:
    from .conftest import PrefectServer

SETTLE_S = 1.5
OURA_EXPORT = FITBIT.parent / "oura" / "1503960366"


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
    assert drop_files([export], tmp_path) == [
        export / "deep" / "sleeps.csv",
        export / "oura.csv",
    ]


def test_nothing_in_a_hidden_folder_is_a_drop(tmp_path: Path) -> None:
    """Staging and trash folders (`.staging/`, `.Trash-1000/`), as `wearable ingest` skips."""
    for name in (".staging/steps.csv", ".Trash-1000/files/old.csv", "bob/.sync/x.csv", "a.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    assert drop_files([tmp_path], tmp_path) == [tmp_path / "a.csv"]
    assert drop_files([tmp_path / ".staging" / "steps.csv", tmp_path / ".staging"], tmp_path) == []


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
    # Landed while nobody watched: a single-user export in a folder named after its user, a
    # file in a hidden staging folder (never a drop), and a copy still going on when the
    # watcher starts (its catch-up run waits for it to settle).
    shutil.copytree(OURA_EXPORT, drop / "alice")
    copy_fixture("dailyCalories_merged.csv", drop / ".staging")
    (drop / "fitbit").mkdir()
    watcher_up = threading.Event()
    copying = threading.Thread(
        target=_write_slowly,
        args=(FITBIT / "weightLogInfo_merged.csv", drop / "fitbit" / "weightLogInfo_merged.csv"),
        # the first chunk, then the rest only once the watcher is up: it starts mid-copy
        kwargs={"chunks": 8, "pause": 0.5, "go_on": watcher_up},
    )
    copying.start()
    watcher = _started_watcher(
        [str(drop), "--settle", str(SETTLE_S), "--skip-tests", *models],
        prefect_server.cli_env(DATABASE_URL=fresh_database_url),
        home,
    )
    try:
        watcher_up.set()
        catch_up = wait_for(lambda: finished_runs(fresh_database_url), 180, "the catch-up run")
        assert not copying.is_alive()
        assert [(run[1], run[3]) for run in catch_up] == [("succeeded", 2)]

        # A file dropped whole: one run loads it.
        copy_fixture("dailyActivity_merged.csv", drop / "fitbit")
        runs = wait_for(
            lambda: (r := finished_runs(fresh_database_url)) and len(r) >= 2 and r,
            180,
            "the first run on a drop",
        )
        assert [(run[1], run[3], run[4]) for run in runs[1:]] == [("succeeded", 1, 940)]

        # A file written slowly, pausing less than the settle period between writes.
        _write_slowly(FITBIT / "sleepDay_merged.csv", drop / "fitbit" / "sleepDay_merged.csv")
        runs = wait_for(
            lambda: (r := finished_runs(fresh_database_url)) and len(r) >= 3 and r,
            180,
            "the run on the slowly written file",
        )
        # Long enough for a stray extra run to have been noticed (debounce + settle).
        time.sleep(SETTLE_S + 2)
        assert len(finished_runs(fresh_database_url)) == 3

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

    assert [(run[1], run[3], run[4]) for run in runs[1:3]] == [
        ("succeeded", 1, 940),
        ("succeeded", 1, 413),
    ]
    with psycopg.connect(fresh_database_url) as conn:
        loads = conn.execute(
            "select regexp_replace(path, '.*/', ''), status, rows_loaded, rows_rejected,"
            " user_id_hint from ops.file_loads order by started_at"
        ).fetchall()
    assert loads == [  # each loaded once and whole; nothing from the hidden folder
        ("oura_2016-04-09_2016-04-13_trends.csv", "loaded", 5, 0, "alice"),
        ("weightLogInfo_merged.csv", "loaded", 67, 0, None),
        ("dailyActivity_merged.csv", "loaded", 940, 0, None),
        ("sleepDay_merged.csv", "loaded", 413, 0, None),
        ("dailyActivity_merged.csv", "skipped", 0, 0, None),  # the same content again
    ]
    assert not any(p.pid == watcher.pid for p in processes.running(home))


def _started_watcher(args: list[str], env: dict[str, str], home: Path) -> subprocess.Popen[str]:
    """`wearable watch ARGS`, returned once it has recorded itself (its file-system watch is
    set up right after); stopped again if it never does."""
    watcher = subprocess.Popen(
        [*WEARABLE, "watch", *args],
        env=env,
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
    except BaseException:
        stop_process(watcher)
        raise
    return watcher


def _running_runs(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select count(*) from ops.pipeline_runs where status = 'running'")
        return int(row.fetchone()[0])


def _write_slowly(
    source: Path,
    target: Path,
    chunks: int = 6,
    pause: float = 0.5,
    go_on: threading.Event | None = None,
) -> None:
    """Copy `source` in chunks with pauses, as a slow upload or a copy over a network does;
    with `go_on`, the chunks after the first wait until it is set."""
    data = source.read_bytes()
    size = len(data) // chunks + 1
    with target.open("wb") as handle:
        for start in range(0, len(data), size):
            handle.write(data[start : start + size])
            handle.flush()
            if go_on is not None:
                go_on.wait(timeout=180)
            time.sleep(pause)


def test_a_watched_folder_removed_stops_the_watcher_saying_so(
    fresh_database_url: str, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    """Watching a folder that is gone would watch nothing, in silence: it stops, exit 1."""
    drop = tmp_path / "drop"
    drop.mkdir()
    watcher = _started_watcher(
        [str(drop), "--no-catch-up"],
        prefect_server.cli_env(DATABASE_URL=fresh_database_url),
        prefect_server.home,
    )
    try:
        shutil.rmtree(drop)
        _, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            stop_process(watcher)
    assert watcher.returncode == 1
    assert f"{drop} was removed or moved away; stopped watching" in " ".join(err.split())
    assert finished_runs(fresh_database_url) == []


def test_a_folder_gone_before_the_watch_is_set_up_is_reported_the_same(tmp_path: Path) -> None:
    """The race the real-process test can lose: removed between start and watch set-up."""
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    config = WatchConfig(folder=tmp_path / "gone", catch_up=False)
    with pytest.raises(WatchedFolderGone, match="gone was removed or moved away"):
        watch_folder(settings, config, lambda paths, outcome: None, StopRequests())
