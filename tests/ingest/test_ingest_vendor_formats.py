"""The registry features the vendors need, through the real loader: a file name where a header
is ambiguous, headers in another language, Samsung's metadata line and trailing comma, and
Apple Health's XML reported as not supported. No loader code knows any vendor."""

from __future__ import annotations

import gzip
from collections import defaultdict
from pathlib import Path

from wearable_pipeline.ingest.formats import FORMATS, detect_format, get_format, match_header
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.ingest.paths import discover
from wearable_pipeline.ingest.source import header_candidates

from .helpers import load_rows, query, write

SAMSUNG_STEPS = (
    "com.samsung.shealth.step_daily_trend,6320001,6\n"
    "binning_data,update_time,create_time,source_pkg_name,source_type,count,speed,distance,"
    "calorie,deviceuuid,pkg_name,datauuid,day_time\n"
)
SAMSUNG_ROW = (
    "b.json,2024-05-01 15:00:00.375,2024-05-01 15:00:00.375,pkg,-2,5200,1.3,3900.5,180.2,"
    "dev,pkg,u1,1714521600000"
)


def test_formats_that_share_a_header_are_told_apart_by_distinct_file_names() -> None:
    by_signature: dict[frozenset[str], list[str]] = defaultdict(list)
    for fmt in FORMATS:
        by_signature[frozenset(fmt.raw_name(col) for col in fmt.signature)].append(fmt.name)
    for names in by_signature.values():
        if len(names) > 1:
            patterns = [get_format(name).file_name_pattern for name in names]
            assert None not in patterns and len(set(patterns)) == len(patterns), names


def test_the_file_name_decides_only_where_the_header_cannot() -> None:
    header = ["date", "value"]
    assert detect_format(header, file_name="aggregates_steps.csv").name == (
        "withings_aggregates_steps"
    )
    assert detect_format(header, file_name="AGGREGATES_DISTANCE (1).csv.gz").name == (
        "withings_aggregates_distance"
    )
    assert detect_format(header, file_name="steps.csv") is None
    assert detect_format(header) is None
    # elsewhere the header alone decides, whatever the name
    oura = ["date", "Total Sleep Duration", "Readiness Score", "Steps"]
    assert detect_format(oura, file_name="aggregates_steps.csv").name == "oura_trends"


def test_a_localised_header_matches_its_format_under_the_english_names() -> None:
    german = ["von", "bis", "leicht (s)", "tief (s)", "rem (s)", "wach (s)", "Aufwachen"]
    fmt = detect_format(german)
    assert fmt is not None and fmt.name == "withings_sleep"
    assert fmt.raw_columns(german) == [
        "from",
        "to",
        "light_s",
        "deep_s",
        "rem_s",
        "awake_s",
        "wake_up",
    ]
    assert fmt.missing_required(german) == []
    nap = ["Cycle start time", "Cycle timezone", "Sleep onset", "Wake onset"]
    whoop = detect_format([*nap, "Asleep duration (min)", "Nap (true/false)"])
    assert whoop is not None and whoop.name == "whoop_sleeps"


def test_samsungs_header_is_on_line_two() -> None:
    lines = [line.encode() + b"\n" for line in (SAMSUNG_STEPS + SAMSUNG_ROW + ",").splitlines()]
    match = match_header(header_candidates(lines), file_name="com.samsung.x.csv")
    assert match is not None
    assert (match.format.name, match.line_number) == ("samsung_step_daily", 2)


def test_samsungs_trailing_comma_is_kept_and_a_row_without_it_is_named(
    database_url: str, drop: Path
) -> None:
    path = write(
        drop,
        "galaxy/com.samsung.shealth.step_daily_trend.1.csv",
        "\ufeff" + SAMSUNG_STEPS + SAMSUNG_ROW + ",\n" + SAMSUNG_ROW + "\n",
    )
    (result,) = ingest_paths(database_url, [path], drop_dir=drop).files
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 1)
    assert result.user_id_hint == "galaxy"
    rows = load_rows(database_url, "samsung_step_daily", result.load_id, "_row_number, count")
    assert rows == [(3, "5200")]
    (trailing,) = query(
        database_url,
        "select trailing_field from raw.samsung_step_daily where _load_id = %s",
        result.load_id,
    )
    assert trailing == ("",)
    (reason,) = query(
        database_url,
        "select line_number, reason from raw.rejected_rows where load_id = %s",
        result.load_id,
    )
    assert reason == (4, "expected 14 fields as in the header, found 13")


def test_a_german_export_lands_in_the_english_columns_and_keeps_its_header(
    database_url: str, drop: Path
) -> None:
    content = (
        'von,bis,"leicht (s)","tief (s)","rem (s)","wach (s)",Aufwachen\n'
        "2024-02-01T23:10:00+01:00,2024-02-02T07:00:00+01:00,14400,9000,3600,1200,1\n"
    )
    path = write(drop, "anna/sleep.csv", content)
    (result,) = ingest_paths(database_url, [path], drop_dir=drop).files
    assert (result.status, result.source_format) == ("loaded", "withings_sleep")
    rows = load_rows(database_url, "withings_sleep", result.load_id, '"from", light_s, wake_up')
    assert rows == [("2024-02-01T23:10:00+01:00", "14400", "1")]
    (header,) = query(
        database_url, "select header from ops.file_loads where load_id = %s", result.load_id
    )[0]
    assert header[:3] == ["von", "bis", "leicht (s)"]


def test_an_ambiguous_header_under_another_name_is_unrecognised(
    database_url: str, drop: Path
) -> None:
    path = write(drop, "anna/daily_values.csv", "date,value\n2024-02-03,7200\n")
    (result,) = ingest_paths(database_url, [path], drop_dir=drop).files
    assert result.status == "unrecognised"
    assert "withings_aggregates_steps (date, value; file aggregates_steps*.csv)" in result.error
    gz = drop / "anna" / "aggregates_steps.csv.gz"
    gz.write_bytes(gzip.compress(b"date,value\n2024-02-03,7200\n"))
    (result,) = ingest_paths(database_url, [gz], drop_dir=drop).files
    assert (result.status, result.source_format) == ("loaded", "withings_aggregates_steps")


def test_apple_health_xml_is_reported_by_name_in_a_folder_and_by_content_when_named(
    database_url: str, drop: Path
) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n'
        '<!ELEMENT HealthData (ExportDate,Me)>\n]>\n<HealthData locale="en_US">\n'
    )
    export = write(drop, "anna/apple_health_export/export.xml", xml)
    renamed = write(drop, "bob/health.csv", xml)
    write(drop, "anna/apple_health_export/notes.xml", "<notes/>")
    assert discover([drop]).files == [export, renamed]
    report = ingest_paths(database_url, [drop], drop_dir=drop)
    assert [(Path(f.path).name, f.status) for f in report.files] == [
        ("export.xml", "unrecognised"),
        ("health.csv", "unrecognised"),
    ]
    assert all("Apple Health XML export" in (f.error or "") for f in report.files)
    assert report.ok
