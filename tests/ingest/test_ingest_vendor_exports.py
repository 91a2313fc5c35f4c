"""The real exports of six vendors in ../shared/data/real/ (personal data, never copied into the
project): every CSV is recognised and loads, rows rejected only where truly unparseable; the
Apple Health XML beside them is reported as not supported, not read.

The folder is on the development and CI machines; elsewhere these tests skip, saying why.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.ingest.loader import ingest_paths

from .helpers import query

# beside the project (../shared/data/real), or wherever WEARABLE_REAL_DATA_DIR says (a clone
# elsewhere, e.g. CI's)
REAL = Path(
    os.environ.get("WEARABLE_REAL_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data" / "real")
)
VENDORS = ("google_fit", "oura", "samsung", "withings", "garmin")
# What each real file is, by vendor and file name (the files carry no user id: the user is
# their folder below the vendor folder, the drop directory here).
EXPECTED_FORMATS = {
    "Daily activity metrics.csv": "google_fit_daily",
    "oura.csv": "oura_trends",
    "com.samsung.shealth.step_daily_trend.20260514122377.csv": "samsung_step_daily",
    "com.samsung.shealth.tracker.pedometer_step_count.20260514122377.csv": (
        "samsung_pedometer_step_count"
    ),
    "com.samsung.shealth.sleep.20260514122377.csv": "samsung_sleep",
    "com.samsung.health.sleep.201805102139.csv": "samsung_legacy_sleep",
    "com.samsung.health.sleep.201909262148.csv": "samsung_legacy_sleep",
    "com.samsung.health.exercise.202002242222.csv": "samsung_exercise",
    "sleep.csv": "withings_sleep",
    "activities.csv": "withings_activities",
    "aggregates_steps.csv": "withings_aggregates_steps",
    "aggregates_distance.csv": "withings_aggregates_distance",
    "aggregates_calories_earned.csv": "withings_aggregates_calories_earned",
    "aggregates_calories_passive.csv": "withings_aggregates_calories_passive",
    "aggregates_elevation.csv": "withings_aggregates_elevation",
    "raw_tracker_steps.csv": "withings_tracker_steps",
    "raw_tracker_sleep-state.csv": "withings_tracker_sleep_state",
    "Activities.csv": "garmin_activities",
}

pytestmark = pytest.mark.skipif(
    not all((REAL / vendor).is_dir() for vendor in VENDORS),
    reason=f"the real vendor exports are not on this machine ({REAL}/<vendor>/)",
)


def data_lines(path: Path, header_line: int) -> int:
    """Physical data lines below the header (no record of these exports spans lines)."""
    return len(path.read_bytes().splitlines()) - header_line


def test_every_real_csv_of_the_six_vendors_loads(fresh_database_url: str) -> None:
    files = {}
    for vendor in VENDORS:
        report = ingest_paths(fresh_database_url, [REAL / vendor], drop_dir=REAL / vendor)
        for result in report.files:
            files[result.path] = result
    assert len(files) == 23, sorted(files)
    problems = {path: (r.status, r.error) for path, r in files.items() if r.status != "loaded"}
    assert problems == {}
    for path, result in files.items():
        name = Path(path).name
        assert result.source_format == EXPECTED_FORMATS[name], path
        assert result.rows_rejected == 0, (path, result.row_errors)
        header_line = 2 if name.startswith("com.samsung") else 1
        expected_rows = data_lines(Path(path), header_line)
        assert result.rows_loaded == expected_rows, path
        assert result.user_id_hint == Path(path).parent.name
    by_format = Counter(r.source_format for r in files.values())
    assert by_format["garmin_activities"] == 4 and by_format["google_fit_daily"] == 3


def test_a_danish_garmin_export_lands_under_the_english_column_names(
    fresh_database_url: str,
) -> None:
    report = ingest_paths(
        fresh_database_url, [REAL / "garmin" / "HLasse"], drop_dir=REAL / "garmin"
    )
    (result,) = report.files
    assert result.status == "loaded"
    (header,) = query(
        fresh_database_url,
        "select header from ops.file_loads where load_id = %s",
        result.load_id,
    )[0]
    assert header[:3] == ["Aktivitetstype", "Dato", "Favorit"]  # kept as written
    rows = query(
        fresh_database_url,
        "select activity_type, date, avg_hr from raw.garmin_activities"
        " where _load_id = %s and _row_number = 2",
        result.load_id,
    )
    assert rows == [("Løb", "2020-03-02 15:05:08", "150")]


def test_the_apple_health_xml_is_reported_as_not_supported(fresh_database_url: str) -> None:
    report = ingest_paths(fresh_database_url, [REAL / "apple"], drop_dir=REAL / "apple")
    (result,) = report.files
    assert result.path.endswith("export.xml")
    assert result.status == "unrecognised"
    assert "Apple Health XML export (export.xml) is not supported" in (result.error or "")
    assert "nothing of this file was loaded" in (result.error or "")
    assert report.ok  # a warning: the rest of a drop folder still loads
    manifest = query(
        fresh_database_url,
        "select status, source_format, sha256, rows_loaded from ops.file_loads",
    )
    assert manifest == [("unrecognised", None, None, 0)]
