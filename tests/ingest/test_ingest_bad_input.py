"""Bad input: every problem gets a message naming the file's line and what is wrong, and
nothing that can be kept is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from wearable_pipeline.ingest.formats import FORMATS, SourceFormat
from wearable_pipeline.ingest.loader import ingest_file, ingest_paths

from .helpers import BAD, load_rows, query, write


def _one(url: str, path: Path, drop: Path, **kwargs: object):
    report = ingest_paths(url, [path], drop_dir=drop, **kwargs)  # type: ignore[arg-type]
    assert len(report.files) == 1
    return report, report.files[0]


def test_empty_file_is_rejected(database_url: str, drop: Path) -> None:
    report, result = _one(database_url, BAD / "empty.csv", drop)
    assert result.status == "rejected" and not report.ok
    assert result.error == "empty file: no header line"
    assert query(
        database_url, "select status, error from ops.file_loads where sha256 = %s", result.sha256
    ) == [("rejected", "empty file: no header line")]


def test_a_header_only_file_loads_no_rows_with_a_note_and_is_skipped_next_time(
    database_url: str, drop: Path
) -> None:
    # A valid file of an export (a study where nobody logged a weight) must not fail a run.
    report, result = _one(database_url, BAD / "header_only_sleepDay.csv", drop)
    assert (result.status, result.source_format, result.rows_loaded) == (
        "loaded",
        "fitbit_sleep_day",
        0,
    )
    assert report.ok and result.message == "line 1: header only, no data rows"
    assert query(
        database_url, "select status, message from ops.file_loads where sha256 = %s", result.sha256
    ) == [("loaded", "line 1: header only, no data rows")]
    _, again = _one(database_url, BAD / "header_only_sleepDay.csv", drop)
    assert again.status == "skipped"


def test_unknown_format_is_reported_with_the_known_formats_whatever_its_name(
    database_url: str, drop: Path
) -> None:
    report, result = _one(database_url, BAD / "dailyActivity_unknown_vendor.csv", drop)
    assert result.status == "unrecognised" and result.target_table is None
    assert report.ok  # reported, not a failure: a drop folder may hold other exports
    assert "header matches no known format (Date, Steps, Heart Points)" in result.error
    for fmt in FORMATS:
        assert fmt.name in result.error
    assert query(
        database_url,
        "select status, source_format, header, error, message from ops.file_loads"
        " where sha256 = %s",
        result.sha256,
    ) == [("unrecognised", None, ["Date", "Steps", "Heart Points"], result.error, None)]


def test_missing_required_columns_are_listed(database_url: str, drop: Path) -> None:
    report, result = _one(database_url, BAD / "activity_missing_columns.csv", drop)
    assert result.status == "rejected" and not report.ok
    assert result.error == (
        "line 1: header lacks required column(s) TotalDistance, VeryActiveMinutes, "
        "FairlyActiveMinutes, LightlyActiveMinutes, SedentaryMinutes, Calories "
        "of format fitbit_daily_activity"
    )


def test_bad_rows_go_to_rejected_rows_and_the_rest_loads(database_url: str, drop: Path) -> None:
    report, result = _one(database_url, BAD / "sleep_bad_rows.csv", drop)
    assert report.ok
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 3, 4)
    assert load_rows(
        database_url, "sleep", result.load_id, "total_minutes_asleep, _row_number"
    ) == [
        ("327", 2),
        ("700", 6),
        ("444", 8),
    ]
    rejected = query(
        database_url,
        "select line_number, raw_line, raw_bytes, reason from raw.rejected_rows"
        " where load_id = %s order by line_number",
        result.load_id,
    )
    assert rejected[0] == (
        3,
        "1503960366,4/13/2016 12:00:00 AM,2,384",
        None,
        "expected 5 fields as in the header, found 4",
    )
    assert rejected[1][0] == 4 and rejected[1][3] == "expected 5 fields as in the header, found 6"
    line, raw_line, raw_bytes, reason = rejected[2]
    assert line == 5
    assert bytes(raw_bytes) == b"15039\xff0366,4/16/2016 12:00:00 AM,2,340,367"
    assert raw_line == "15039\ufffd0366,4/16/2016 12:00:00 AM,2,340,367"
    assert reason.startswith("bytes that are not UTF-8 (first: 0xFF at character 6")
    # Postgres text cannot hold NUL: the row is kept as bytes, its text shows U+FFFD.
    line, raw_line, raw_bytes, reason = rejected[3]
    assert line == 7
    assert bytes(raw_bytes) == b"1503960366,4/18/2016 12:00:00 AM,1,31\x000,330"
    assert raw_line == "1503960366,4/18/2016 12:00:00 AM,1,31\ufffd0,330"
    assert reason == "NUL byte at character 38; text columns cannot hold it"
    assert result.row_errors[0] == "line 3: expected 5 fields as in the header, found 4"
    assert result.row_errors[3] == "line 7: NUL byte at character 38; text columns cannot hold it"


def test_a_nul_byte_in_an_otherwise_plain_file_rejects_only_its_row(
    database_url: str, drop: Path
) -> None:
    rows = [f"1503960366,4/{day}/2016 12:00:00 AM,1,{day},400" for day in range(1, 8)]
    rows[3] = rows[3].replace(",1,", ",\x00,")
    header = "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed"
    path = write(drop, "nul.csv", header + "\n" + "\n".join(rows) + "\n")
    _, result = _one(database_url, path, drop)
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 6, 1)
    assert result.row_errors == ["line 5: NUL byte at character 33; text columns cannot hold it"]
    assert [n for (n,) in load_rows(database_url, "sleep", result.load_id, "_row_number")] == [
        2,
        3,
        4,
        6,
        7,
        8,
    ]


def test_a_nul_byte_in_a_header_still_gets_a_manifest_row(database_url: str, drop: Path) -> None:
    path = write(drop, "nul_header.csv", "Date\x00,Mystery\n2024-01-01,1\n")
    _, result = _one(database_url, path, drop)
    assert result.status == "unrecognised"
    assert query(
        database_url, "select header from ops.file_loads where sha256 = %s", result.sha256
    ) == [(["Date\ufffd", "Mystery"],)]


def test_a_path_that_does_not_exist_fails_clearly(database_url: str, drop: Path) -> None:
    good = write(drop, "ok.csv", "user_id,date,steps\nbob,2024-01-02,1\n")
    report = ingest_paths(database_url, [drop / "nope.csv", good], drop_dir=drop)
    statuses = {Path(r.path).name: (r.status, r.error) for r in report.files}
    assert statuses["nope.csv"] == ("failed", "no such file or folder")
    assert statuses["ok.csv"][0] == "loaded"  # the other files still load
    assert not report.ok


def test_folders_are_walked_for_csv_files_only(database_url: str, drop: Path) -> None:
    write(drop, "notes.txt", "not a csv")
    write(drop, ".hidden/x.csv", "user_id,date,steps\nh,2024-01-01,1\n")
    nested = write(drop, "a/b/deep.csv", "user_id,date,steps\ncarol,2024-01-03,3\n")
    report = ingest_paths(database_url, [drop], drop_dir=drop)
    assert [Path(r.path).name for r in report.files] == [nested.name]


# A test-only single-user format: no user-id column, so the user comes from the folder.
_SINGLE_USER = SourceFormat(
    name="test_single_user_steps",
    target_table="test_single_user_steps",
    signature=("day", "step_total"),
    required=("day", "step_total"),
    columns=("day", "step_total"),
    user_id_column=None,
    description="test only",
    vendor="test",
)


@pytest.mark.parametrize(
    ("relative", "user_id", "expected"),
    [
        ("alice/steps.csv", None, "alice"),
        ("alice/2024/steps.csv", None, "alice"),
        ("steps.csv", "bob", "bob"),
        ("alice/steps.csv", "bob", "bob"),
    ],
)
def test_single_user_files_take_the_user_from_the_folder_or_option(
    database_url: str, drop: Path, relative: str, user_id: str | None, expected: str
) -> None:
    path = write(drop, relative, f"day,step_total\n2024-01-01,{relative}-{user_id}\n")
    _, result = _one(database_url, path, drop, user_id=user_id, formats=(*FORMATS, _SINGLE_USER))
    assert result.status == "loaded", result.error
    assert len(load_rows(database_url, "test_single_user_steps", result.load_id)) == 1
    assert query(
        database_url, "select user_id_hint from ops.file_loads where load_id = %s", result.load_id
    ) == [(expected,)]


def test_single_user_file_without_a_user_is_rejected(database_url: str, drop: Path) -> None:
    path = write(drop, "orphan.csv", "day,step_total\n2024-02-01,5\n")
    _, result = _one(database_url, path, drop, formats=(*FORMATS, _SINGLE_USER))
    assert result.status == "rejected"
    assert "no user-id column" in result.error and "--user-id" in result.error


def test_multi_user_files_get_no_folder_hint(database_url: str, drop: Path) -> None:
    path = drop / "synthetic" / "s.csv"
    path.parent.mkdir()
    shutil.copy(BAD / "sleep_bad_rows.csv", path)
    path.write_bytes(path.read_bytes().replace(b"700", b"701"))
    _, result = _one(database_url, path, drop)
    assert result.user_id_hint is None


def test_a_file_that_cannot_be_read_is_recorded_as_failed(database_url: str, drop: Path) -> None:
    (drop / "dangling.csv").symlink_to(drop / "gone.csv")
    report = ingest_paths(database_url, [drop], drop_dir=drop)
    [result] = report.files
    assert not report.ok
    assert (result.status, result.error) == (
        "failed",
        "cannot read the file: No such file or directory",
    )
    assert query(
        database_url,
        "select status, error, size_bytes, sha256 from ops.file_loads where path = %s",
        str((drop / "dangling.csv").resolve()),
    ) == [("failed", result.error, None, None)]


def test_a_path_that_stops_being_a_file_is_recorded_as_failed(
    database_url: str, drop: Path
) -> None:
    # Found as a file, a folder by the time it is read (the race discovery cannot close).
    folder = drop / "now_a_folder.csv"
    folder.mkdir()
    with psycopg.connect(database_url, autocommit=True) as conn:
        result = ingest_file(conn, folder, drop_dir=drop)
    assert (result.status, result.error) == ("failed", "cannot read the file: Is a directory")
    assert query(
        database_url,
        "select status, error from ops.file_loads where path = %s",
        str(folder.resolve()),
    ) == [("failed", result.error)]
