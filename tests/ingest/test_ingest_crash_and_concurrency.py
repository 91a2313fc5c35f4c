"""A load killed with SIGKILL leaves nothing behind; two runs at once load each file once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.synth import generate_csv_files

from .helpers import FITBIT, query

_RUN = """
import json, sys
from pathlib import Path
from wearable_pipeline.ingest.loader import ingest_paths
report = ingest_paths(sys.argv[1], [Path(sys.argv[2])], drop_dir=Path(sys.argv[2]))
print(json.dumps(report.to_dict()))
"""


@pytest.fixture(scope="module")
def big_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a 200,000-row activity file and a sleep file: a generated export whose
    activity rows are written 20 times over (a big file is all these tests need)."""
    folder = tmp_path_factory.mktemp("big")
    written = {
        f.source_format: f.path
        for f in generate_csv_files(
            folder / "generated", users=200, days=50, seed=7, include=["daily"]
        )
    }
    header, *rows = written["fitbit_daily_activity"].read_bytes().splitlines(keepends=True)
    (folder / "dailyActivity_merged.csv").write_bytes(header + b"".join(rows) * 20)
    shutil.copy(written["fitbit_sleep_day"], folder / "sleepDay_merged.csv")
    shutil.rmtree(folder / "generated")
    return folder


def _start(url: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _RUN, url, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _copy_running(url: str) -> bool:
    rows = query(
        url,
        "select count(*) from pg_stat_progress_copy p join pg_stat_activity a using (pid)"
        " where a.datname = current_database() and p.relid = 'raw.daily_activity'::regclass"
        " and p.tuples_processed > 0",
    )
    return rows[0][0] > 0


def test_sigkill_mid_copy_leaves_no_rows_and_no_loaded_entry(
    fresh_database_url: str, big_drop: Path, tmp_path: Path
) -> None:
    only_activity = tmp_path / "activity"
    only_activity.mkdir()
    shutil.copy(big_drop / "dailyActivity_merged.csv", only_activity)
    child = _start(fresh_database_url, only_activity)
    deadline = time.monotonic() + 30
    while not _copy_running(fresh_database_url):
        assert child.poll() is None, "the load finished before it could be killed"
        assert time.monotonic() < deadline, "COPY never started"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # The server notices the dead client and rolls the transaction back.
    deadline = time.monotonic() + 30
    while query(
        fresh_database_url,
        "select count(*) from pg_stat_activity where datname = current_database()"
        " and pid <> pg_backend_pid() and query ilike 'copy%'",
    )[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    assert query(fresh_database_url, "select count(*) from raw.daily_activity") == [(0,)]
    assert query(
        fresh_database_url, "select count(*) from ops.file_loads where status = 'loaded'"
    ) == [(0,)]

    # And the next run loads the whole file.
    report = ingest_paths(fresh_database_url, [only_activity], drop_dir=only_activity)
    assert report.files[0].status == "loaded" and report.rows_loaded == 200_000


def test_two_concurrent_runs_load_each_file_once(
    fresh_database_url: str, big_drop: Path, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    shutil.copytree(big_drop, drop)
    (drop / "real").mkdir()
    shutil.copy(FITBIT / "sleepDay_merged.csv", drop / "real")
    first, second = _start(fresh_database_url, drop), _start(fresh_database_url, drop)
    reports = []
    for child in (first, second):
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        reports.append(json.loads(out))

    for name in ("dailyActivity_merged.csv", "sleepDay_merged.csv"):
        statuses = sorted(
            f["status"] for r in reports for f in r["files"] if Path(f["path"]).name == name
        )
        # Two sleep files (generated and real) share a name, not content: 3 files in all.
        assert statuses.count("loaded") == len(statuses) // 2, (name, statuses)
    loaded = query(
        fresh_database_url,
        "select target_table, sha256, count(*) from ops.file_loads where status = 'loaded'"
        " group by 1, 2",
    )
    assert len(loaded) == 3 and all(count == 1 for _, _, count in loaded)
    assert query(fresh_database_url, "select count(*) from raw.daily_activity") == [(200_000,)]
    total_loaded = sum(r["rows_loaded"] for r in reports)
    sleep_rows = query(fresh_database_url, "select count(*) from raw.sleep")[0][0]
    assert total_loaded == 200_000 + sleep_rows
