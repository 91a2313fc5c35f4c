"""The synthetic Fitbit export: deterministic, every file of a study's export, the real files'
quirks, and internally consistent (minutes add up to hours, hours to days)."""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from wearable_pipeline.ingest.formats import get_format, match_header
from wearable_pipeline.ingest.source import header_candidates
from wearable_pipeline.synth import (
    FILES,
    generate_csv,
    generate_csv_files,
    synthetic_dates,
    synthetic_user_ids,
)

FITBIT_TIME = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every file for 6 users over 10 days, by source format."""
    folder = tmp_path_factory.mktemp("export")
    return {f.source_format: f.path for f in generate_csv_files(folder, users=6, days=10, seed=3)}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def day_of(text: str) -> str:
    return text.split(" ")[0]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_csv(tmp_path / "a", users=3, days=4, seed=1)
    b = generate_csv(tmp_path / "b", users=3, days=4, seed=1)
    c = generate_csv(tmp_path / "c", users=3, days=4, seed=2)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[0].read_bytes() != c[0].read_bytes()
    assert [p.name for p in a] == [spec.name for spec in FILES]
    assert len(a) == 18


def test_which_files_are_written_never_changes_their_contents(
    export: dict[str, Path], tmp_path: Path
) -> None:
    daily_only = generate_csv_files(tmp_path, users=6, days=10, seed=3, include=["daily"])
    assert {f.source_format for f in daily_only} == {s.source_format for s in FILES[:6]}
    for file in daily_only:
        assert file.path.read_bytes() == export[file.source_format].read_bytes()
    with pytest.raises(ValueError, match="unknown file group"):
        generate_csv_files(tmp_path, users=1, days=1, seed=1, include=["weekly"])


def test_every_file_has_its_registered_header_and_is_recognised(
    export: dict[str, Path],
) -> None:
    for source_format, path in export.items():
        first_lines = path.read_bytes().splitlines(keepends=True)[:6]
        match = match_header(header_candidates(first_lines))
        assert match is not None and match.format.name == source_format, path.name
        assert tuple(match.header) == get_format(source_format).columns
        raw = path.read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF, as Fitabase writes


def test_real_quirks(tmp_path: Path) -> None:
    files = {
        f.source_format: f.path
        for f in generate_csv_files(tmp_path, users=40, days=60, seed=3, include=["daily"])
    }
    activity = rows(files["fitbit_daily_activity"])
    assert len(activity) == 40 * 60  # one row per user-day, worn or not
    assert {row["Id"] for row in activity} == set(synthetic_user_ids(40, 3))
    assert all(re.fullmatch(r"\d{10}", row["Id"]) for row in activity)
    first_day = synthetic_dates(1)[0]
    assert activity[0]["ActivityDate"] == f"{first_day.month}/{first_day.day}/{first_day.year}"
    non_wear = [r for r in activity if r["TotalSteps"] == "0" and r["SedentaryMinutes"] == "1440"]
    assert 0 < len(non_wear) < len(activity) * 0.1
    assert any(re.fullmatch(r"\d+\.\d{10,}", r["TotalDistance"]) for r in activity)  # float32

    sleep_lines = files["fitbit_sleep_day"].read_bytes().split(b"\r\n")[1:-1]
    sleep = rows(files["fitbit_sleep_day"])
    assert all(r["SleepDay"].endswith(" 12:00:00 AM") for r in sleep)
    assert len(sleep_lines) != len(set(sleep_lines))  # a few exact duplicate rows
    assert all(int(r["TotalTimeInBed"]) >= int(r["TotalMinutesAsleep"]) for r in sleep)
    assert {r["TotalSleepRecords"] for r in sleep} >= {"1", "2"}  # naps

    weights = rows(files["fitbit_weight_log"])
    assert weights and {r["IsManualReport"] for r in weights} == {"True", "False"}
    assert any(r["Fat"] == "" for r in weights)


def test_minutes_add_up_to_hours_and_hours_to_days(export: dict[str, Path]) -> None:
    daily = {(r["Id"], r["ActivityDate"]): r for r in rows(export["fitbit_daily_activity"])}
    totals: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for r in rows(export["fitbit_hourly_steps"]):
        totals["hourly steps"][(r["Id"], day_of(r["ActivityHour"]))] += int(r["StepTotal"])
    for r in rows(export["fitbit_minute_steps"]):
        totals["minute steps"][(r["Id"], day_of(r["ActivityMinute"]))] += int(r["Steps"])
    for r in rows(export["fitbit_minute_steps_wide"]):
        key = (r["Id"], day_of(r["ActivityHour"]))
        totals["wide steps"][key] += sum(int(r[f"Steps{m:02d}"]) for m in range(60))
    for r in rows(export["fitbit_hourly_intensities"]):
        totals["hourly intensity"][(r["Id"], day_of(r["ActivityHour"]))] += int(r["TotalIntensity"])
    for r in rows(export["fitbit_minute_intensities"]):
        key = (r["Id"], day_of(r["ActivityMinute"]))
        totals["minute intensity"][key] += int(r["Intensity"])
        totals[f"intensity {r['Intensity']} minutes"][key] += 1
    minute_kcal: Counter[tuple[str, str]] = Counter()
    for r in rows(export["fitbit_minute_calories"]):
        minute_kcal[(r["Id"], day_of(r["ActivityMinute"]))] += float(r["Calories"])
    for key, day in daily.items():
        steps = int(day["TotalSteps"])
        assert totals["hourly steps"][key] == totals["minute steps"][key] == steps, key
        assert totals["wide steps"][key] == steps, key
        assert totals["hourly intensity"][key] == totals["minute intensity"][key], key
        assert totals["intensity 3 minutes"][key] == int(day["VeryActiveMinutes"]), key
        assert totals["intensity 2 minutes"][key] == int(day["FairlyActiveMinutes"]), key
        assert totals["intensity 1 minutes"][key] == int(day["LightlyActiveMinutes"]), key
        assert abs(minute_kcal[key] - int(day["Calories"])) < 1.5, key  # rounded per minute


def test_sleep_days_are_the_minute_episodes_of_their_wake_up_day(
    export: dict[str, Path],
) -> None:
    episodes: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for r in rows(export["fitbit_minute_sleep"]):
        episodes[(r["Id"], r["logId"])].append(
            (datetime.strptime(r["date"], FITBIT_TIME), r["value"])
        )
    by_day: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for (user, _), minutes in episodes.items():
        end = max(moment for moment, _ in minutes)
        key = (user, f"{end.month}/{end.day}/{end.year}")
        by_day[key][0] += 1
        by_day[key][1] += sum(1 for _, state in minutes if state == "1")
        by_day[key][2] += len(minutes)
    sleep = rows(export["fitbit_sleep_day"])
    assert sleep
    for r in sleep:
        key = (r["Id"], day_of(r["SleepDay"]))
        expected = [int(r["TotalSleepRecords"]), int(r["TotalMinutesAsleep"])]
        assert by_day[key][:2] == expected, key
        assert by_day[key][2] == int(r["TotalTimeInBed"]), key
    # Some nights are in minuteSleep only: the mart takes them from there.
    assert len(by_day) > len({(r["Id"], day_of(r["SleepDay"])) for r in sleep})


def test_heart_rate_only_while_worn_every_5_to_15_seconds(export: dict[str, Path]) -> None:
    samples: dict[str, list[datetime]] = defaultdict(list)
    for r in rows(export["fitbit_heartrate_seconds"]):
        samples[r["Id"]].append(datetime.strptime(r["Time"], FITBIT_TIME))
        assert 38 <= int(r["Value"]) <= 205
    assert samples
    gaps: Counter[str] = Counter()
    for times in samples.values():
        assert times == sorted(times)
        for earlier, later in itertools.pairwise(times):
            gap = (later - earlier).total_seconds()
            gaps["in range" if 5 <= gap <= 15 else "longer" if gap > 15 else "shorter"] += 1
    assert gaps["shorter"] == 0
    assert gaps["longer"] > 0  # not worn: no samples
    assert gaps["in range"] > 100 * gaps["longer"]
    # A day without the tracker has no sample at all.
    not_worn = {
        (r["Id"], r["ActivityDate"])
        for r in rows(export["fitbit_daily_activity"])
        if r["TotalSteps"] == "0" and r["SedentaryMinutes"] == "1440"
    }
    sampled_days = {
        (user, f"{t.month}/{t.day}/{t.year}") for user, times in samples.items() for t in times
    }
    assert not (not_worn & sampled_days)


def test_the_files_written_come_with_their_row_counts(tmp_path: Path) -> None:
    written = generate_csv_files(tmp_path, users=2, days=3, seed=4, include=["daily", "hourly"])
    for file in written:
        assert file.rows == file.path.read_bytes().count(b"\r\n") - 1  # minus the header
    counts = {f.source_format: f.rows for f in written}
    assert counts["fitbit_daily_activity"] == 2 * 3
    assert counts["fitbit_hourly_steps"] == 2 * 3 * 24
