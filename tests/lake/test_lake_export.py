"""`wearable lake export`: every load and event once, lossless, atomic per load, resumable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from wearable_pipeline.events.store import copy_events
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.lake.export import export_to_lake
from wearable_pipeline.synth import generate_csv_files

from .helpers import FITBIT, lake_rows, make_events, pg_rows, query


def _ingest(url: str, folder: Path) -> list[int]:
    report = ingest_paths(url, [folder], drop_dir=folder)
    assert all(f.status in ("loaded", "skipped") for f in report.files), report.to_dict()
    return [f.load_id for f in report.files if f.status == "loaded"]


def _raw_tables(url: str) -> list[str]:
    return [
        row[0]
        for row in query(
            url,
            "select table_name from information_schema.columns"
            " where table_schema = 'raw' and column_name = '_load_id' order by 1",
        )
    ]


def _files(lake: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in lake.rglob("*") if p.is_file()}


def _assert_lake_equals_database(url: str, lake: Path) -> None:
    """Every raw table, ops.file_loads of the loaded loads, and raw_events: same rows, same
    values (text exactly, '' apart from NULL), same lineage."""
    for table in _raw_tables(url):
        expected = pg_rows(url, f"raw.{table}", ["_load_id", "_row_number"])
        actual = lake_rows(lake, f"raw/{table}", ["_load_id", "_row_number"])
        assert actual == expected, table
    loads = pg_rows(url, "ops.file_loads where status = 'loaded'", ["load_id"])
    assert lake_rows(lake, "ops/file_loads", ["load_id"]) == loads
    events = pg_rows(url, "raw.raw_events", ["event_id"])
    exported = lake_rows(lake, "raw/raw_events", ["event_id"])
    for row in exported:
        row.pop("_write_id_from")
    for row in events:
        row["event_id"], row["batch_id"] = str(row["event_id"]), str(row["batch_id"])
        row["event"] = query(url, "select %s::jsonb::text", json.dumps(row["event"]))[0][0]
    assert exported == events


@pytest.fixture
def loaded(fresh_database_url: str, tmp_path: Path) -> str:
    """The real Fitbit files, plus a canonical file with '' and quoting, plus events."""
    drop = tmp_path / "drop"
    shutil.copytree(FITBIT, drop / "fitbit")
    (drop / "canonical.csv").write_text(
        "user_id,date,steps,distance_km\n"
        'alice,2024-01-01,9000,""\n'
        'alice,2024-01-02,"1,200","multi\nline"\n',
        encoding="utf-8",
    )
    _ingest(fresh_database_url, drop)
    events = make_events(5)
    with psycopg.connect(fresh_database_url) as conn:
        # a repeated event is stored once (the API's dedupe), and exported once
        copy_events(conn, [*events, events[0]], batch_id=uuid.uuid4())
    return fresh_database_url


def test_export_is_lossless_and_a_rerun_exports_nothing(loaded: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = export_to_lake(loaded, str(lake))
    loads = query(loaded, "select count(*) from ops.file_loads where status = 'loaded'")[0][0]
    assert len(first.loads) == loads
    assert first.events is not None and first.events.rows == 5
    assert first.rows == first.events.rows + sum(
        query(loaded, "select sum(rows_loaded) from ops.file_loads")[0]
    )
    _assert_lake_equals_database(loaded, lake)
    # no temporaries left, and every partition is one file
    assert not [p for p in lake.rglob(".*")]
    assert all(
        [f.name for f in folder.iterdir()] == ["part-00000.parquet"]
        for folder in lake.glob("raw/*/*=*")
    )

    files = _files(lake)
    second = export_to_lake(loaded, str(lake))
    assert second.loads == [] and second.events is None and not second.catalog_written
    assert _files(lake) == files, "a rerun must not rewrite anything"
    exported = query(loaded, "select count(*), count(distinct load_id) from ops.lake_exports")
    assert exported == [(loads, loads)]


def test_new_loads_and_events_follow_and_another_lake_gets_everything(
    loaded: str, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    export_to_lake(loaded, str(lake))
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "more.csv").write_text(
        "user_id,date,steps,extra_column\nbob,2024-02-01,10,kept\n", encoding="utf-8"
    )
    (new_load,) = _ingest(loaded, newer)
    with psycopg.connect(loaded) as conn:
        copy_events(conn, make_events(3, user="u2"), batch_id=uuid.uuid4())
    report = export_to_lake(loaded, str(lake))
    assert [load.load_id for load in report.loads] == [new_load]
    assert report.events is not None and report.events.rows == 3
    assert report.catalog_written, "a new column must reach the catalog"
    _assert_lake_equals_database(loaded, lake)
    catalog = pq.read_table(lake / "catalog" / "columns.parquet").to_pylist()
    assert {
        "table_name": "daily_activity",
        "column_name": "extra_column",
        "data_type": "string",
    }.items() <= next(row for row in catalog if row["column_name"] == "extra_column").items()

    other = tmp_path / "other-lake"
    everything = export_to_lake(loaded, str(other))
    assert everything.events is not None and everything.events.rows == 8
    _assert_lake_equals_database(loaded, other)


_EXPORT = """
import sys
from wearable_pipeline.lake.export import export_to_lake
export_to_lake(sys.argv[1], sys.argv[2])
"""


def test_a_killed_export_shows_nothing_partial_and_resumes(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """SIGKILL while a partition is being written: nothing half-written is visible, the
    rerun completes it, and every row is in the lake exactly once."""
    generated = tmp_path / "generated"
    written = {
        f.source_format: f.path
        for f in generate_csv_files(generated, users=40, days=20, seed=3, include=["hourly"])
    }
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in ("fitbit_hourly_steps", "fitbit_hourly_calories"):
        header, *rows = written[name].read_bytes().splitlines(keepends=True)
        (drop / written[name].name).write_bytes(header + b"".join(rows) * 12)
    _ingest(fresh_database_url, drop)
    lake = tmp_path / "lake"

    child = subprocess.Popen([sys.executable, "-c", _EXPORT, fresh_database_url, str(lake)])
    deadline = time.monotonic() + 60
    while not list(lake.glob("raw/*/*/.*.tmp")):
        assert child.poll() is None, "the export finished before it could be killed"
        assert time.monotonic() < deadline, "the export never started writing"
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert list(lake.glob("raw/*/*/.*.tmp")), "killed while writing: its temporary remains"
    exported = {row[0] for row in query(fresh_database_url, "select load_id from ops.lake_exports")}
    for part in lake.glob("raw/*/_load_id=*/part-00000.parquet"):
        load_id = int(part.parent.name.split("=")[1])
        expected = query(
            fresh_database_url,
            "select rows_loaded from ops.file_loads where load_id = %s",
            load_id,
        )[0][0]
        assert pq.read_metadata(part).num_rows == expected, "a visible partition is complete"

    report = export_to_lake(fresh_database_url, str(lake))
    assert {load.load_id for load in report.loads}.isdisjoint(exported)
    assert not list(lake.rglob(".*.tmp")), "the rerun removed the temporary"
    _assert_lake_equals_database(fresh_database_url, lake)
    assert query(fresh_database_url, "select count(*) from ops.lake_exports")[0][0] == 2


def test_cli_needs_a_lake(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in {**os.environ, **cli_env}.items() if k != "WEARABLE_LAKE_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "wearable_pipeline.cli", "lake", "export"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "WEARABLE_LAKE_DIR" in result.stderr


def test_cli_exports_and_reports(cli_env: dict[str, str], tmp_path: Path) -> None:
    lake = tmp_path / "cli-lake"
    env = {**os.environ, **cli_env, "WEARABLE_LAKE_DIR": str(lake)}
    drop = Path(cli_env["WEARABLE_DATA_DIR"])
    shutil.copy(FITBIT / "sleepDay_merged.csv", drop)
    subprocess.run([sys.executable, "-m", "wearable_pipeline.cli", "ingest"], env=env, check=True)
    command = [sys.executable, "-m", "wearable_pipeline.cli", "lake", "export", "--json"]
    first = json.loads(subprocess.run(command, env=env, capture_output=True, check=True).stdout)
    assert [load["target_table"] for load in first["loads"]] == ["sleep"]
    assert first["rows"] == 413
    again = subprocess.run(command[:-1], env=env, capture_output=True, text=True, check=True).stdout
    assert "up to date, nothing new" in " ".join(again.split())
