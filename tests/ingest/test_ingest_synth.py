"""The Fitbit-format generator: deterministic, and it has the real files' quirks."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from wearable_pipeline.synth import (
    generate_csv,
    generate_csv_files,
    synthetic_dates,
    synthetic_user_ids,
)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_csv(tmp_path / "a", users=5, days=20, seed=1)
    b = generate_csv(tmp_path / "b", users=5, days=20, seed=1)
    c = generate_csv(tmp_path / "c", users=5, days=20, seed=2)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[0].read_bytes() != c[0].read_bytes()
    assert [p.name for p in a] == ["dailyActivity_merged.csv", "sleepDay_merged.csv"]


def test_real_quirks(tmp_path: Path) -> None:
    activity, sleep = generate_csv(tmp_path, users=40, days=120, seed=3)
    raw = activity.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") == 40 * 120 + 1  # CRLF, one row per user-day
    rows = list(csv.DictReader(activity.open(newline="")))
    users = synthetic_user_ids(40, 3)
    assert {row["Id"] for row in rows} == set(users)
    assert all(re.fullmatch(r"\d{10}", row["Id"]) for row in rows)
    first_day = synthetic_dates(1)[0]
    assert rows[0]["ActivityDate"] == f"{first_day.month}/{first_day.day}/{first_day.year}"
    assert all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", row["ActivityDate"]) for row in rows)
    non_wear = [r for r in rows if r["TotalSteps"] == "0" and r["SedentaryMinutes"] == "1440"]
    assert 0 < len(non_wear) < len(rows) * 0.1
    assert all(0 <= int(r["SedentaryMinutes"]) <= 1440 for r in rows)
    assert any(re.fullmatch(r"\d+\.\d{10,}", r["TotalDistance"]) for r in rows)  # float32 digits

    sleep_lines = sleep.read_bytes().split(b"\r\n")[1:-1]
    sleep_rows = list(csv.DictReader(sleep.open(newline="")))
    assert all(r["SleepDay"].endswith(" 12:00:00 AM") for r in sleep_rows)
    assert len(sleep_lines) != len(set(sleep_lines))  # a few exact duplicate rows
    assert all(int(r["TotalTimeInBed"]) >= int(r["TotalMinutesAsleep"]) for r in sleep_rows)
    assert {r["TotalSleepRecords"] for r in sleep_rows} >= {"1", "2"}


def test_the_files_written_come_with_their_row_counts(tmp_path: Path) -> None:
    written = generate_csv_files(tmp_path, users=7, days=30, seed=4)
    paths = generate_csv(tmp_path / "again", users=7, days=30, seed=4)  # same files, as paths
    assert [p.read_bytes() for p in paths] == [f.path.read_bytes() for f in written]
    for file in written:
        assert file.rows == file.path.read_bytes().count(b"\r\n") - 1  # minus the header
    assert written[0].rows == 7 * 30
    assert [file.source_format for file in written] == ["fitbit_daily_activity", "fitbit_sleep_day"]
