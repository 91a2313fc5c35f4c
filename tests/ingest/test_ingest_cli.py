"""`wearable ingest`, `wearable generate-csv` and `wearable formats` from the outside:
options, output (table, JSON, stderr messages) and exit codes."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wearable_pipeline.cli import app
from wearable_pipeline.commands import ingest as ingest_command
from wearable_pipeline.ingest import loader
from wearable_pipeline.ingest.formats import FORMATS
from wearable_pipeline.ingest.report import IngestReport
from wearable_pipeline.synth import FILES

from .helpers import BAD, FITBIT

runner = CliRunner()


DAILY_HOURLY = {"daily", "hourly"}


def test_ingest_default_data_dir_table_then_nothing_new(cli_env: dict[str, str]) -> None:
    data = Path(cli_env["WEARABLE_DATA_DIR"])
    for name in ("dailyActivity_merged.csv", "sleepDay_merged.csv"):
        shutil.copy(FITBIT / name, data / name)

    first = runner.invoke(app, ["ingest"])
    assert first.exit_code == 0, first.output
    for text in ("dailyActivity_merged.csv", "fitbit_daily_activity", "raw.daily_activity"):
        assert text in first.output
    assert "940" in first.output and "413" in first.output and "loaded" in first.output
    assert "2 file(s) loaded, 1,353 row(s)" in first.output

    second = runner.invoke(app, ["ingest", "--json"])
    assert second.exit_code == 0, second.output
    report = json.loads(second.output)
    assert report["ok"] and report["rows_loaded"] == 0 and report["files_loaded"] == 0
    assert {f["status"] for f in report["files"]} == {"skipped"}


def test_ingest_exit_code_is_1_when_a_file_is_rejected(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ingest", "--json", str(BAD / "activity_missing_columns.csv")])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["files"][0]["status"] == "rejected"
    assert "lacks required column(s) TotalDistance" in result.stderr


def test_unrecognised_file_is_a_warning_with_exit_0(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ingest", str(BAD / "dailyActivity_unknown_vendor.csv")])
    assert result.exit_code == 0
    assert "unrecognised" in result.stdout
    assert "warning:" in result.stderr and "known formats: fitbit_daily_activity" in result.stderr


def test_missing_path_fails(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "nowhere: no such file or folder" in result.stderr


def test_rejected_rows_are_named_by_line_on_stderr(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ingest", str(BAD / "sleep_bad_rows.csv")])
    assert result.exit_code == 0
    assert "sleep_bad_rows.csv: line 3: expected 5 fields as in the header, found 4" in (
        result.stderr
    )


def test_generate_csv_then_ingest_as_a_subprocess(cli_env: dict[str, str], tmp_path: Path) -> None:
    wearable = str(Path(sys.executable).with_name("wearable"))  # the console script beside it
    env = {**os.environ, **cli_env}
    out = tmp_path / "gen"
    generated = subprocess.run(
        [
            *(wearable, "generate-csv", "--users", "3", "--days", "10", "--seed", "5"),
            *("--include", "daily,hourly", "--out", out),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    assert "(30 rows)" in generated.stdout
    ingested = subprocess.run(
        [wearable, "ingest", "--json", str(out)], env=env, capture_output=True, text=True
    )
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    loaded = {f["source_format"]: f["rows_loaded"] for f in report["files"]}
    assert set(loaded) == {spec.source_format for spec in FILES if spec.group in DAILY_HOURLY}
    assert loaded["fitbit_daily_activity"] == 30
    assert loaded["fitbit_hourly_steps"] == 30 * 24


def test_formats_lists_the_registry(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["formats", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert [fmt["name"] for fmt in listed] == [fmt.name for fmt in FORMATS]
    assert {fmt["name"] for fmt in listed} >= {spec.source_format for spec in FILES}
    hourly = next(fmt for fmt in listed if fmt["name"] == "fitbit_hourly_steps")
    assert hourly["target_table"] == "raw.fitbit_hourly_steps"
    assert hourly["signature"] == ["Id", "ActivityHour", "StepTotal"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(("stdout_tty", "stderr_tty"), [(False, True), (True, False)])
def test_progress_bars_follow_the_stream_they_draw_on(
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    stdout_tty: bool,
    stderr_tty: bool,
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdout", _Stream(stdout_tty))
    monkeypatch.setattr(sys, "stderr", _Stream(stderr_tty))
    asked: list[bool] = []

    def ingest_paths(*args: object, progress: bool, **kwargs: object) -> IngestReport:
        asked.append(progress)
        return IngestReport()

    monkeypatch.setattr(loader, "ingest_paths", ingest_paths)
    with pytest.raises(typer.Exit):
        ingest_command.ingest([BAD / "empty.csv"], user_id=None, as_json=False)
    # Bars draw on stderr: `wearable ingest > log` on a terminal still shows them.
    assert asked == [stderr_tty]


def test_generate_csv_json_reports_what_it_wrote(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "gen"
    args = ["--users", "4", "--days", "9", "--seed", "2", "--out", str(out), "--json"]
    result = runner.invoke(app, ["generate-csv", *args])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["users"], report["days"], report["seed"]) == (4, 9, 2)
    files = report["files"]
    assert [(Path(f["path"]).name, f["source_format"]) for f in files] == [
        (spec.name, spec.source_format) for spec in FILES
    ]
    for file in files:
        assert file["rows"] == Path(file["path"]).read_bytes().count(b"\n") - 1
    assert files[0]["rows"] == 36

    unknown = runner.invoke(app, ["generate-csv", "--include", "weekly", "--out", str(out)])
    assert unknown.exit_code == 2
    assert "unknown file group(s) ['weekly']" in unknown.stderr
