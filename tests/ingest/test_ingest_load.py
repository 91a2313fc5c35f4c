"""Loading real Fitbit exports: counts, lineage, idempotency, versions, schema evolution."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from wearable_pipeline.ingest import loader
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.ingest.source import CsvSource, Fingerprint, fingerprint

from .helpers import ACTIVITY_HEADER, FITBIT, activity_row, load_rows, query, write


def test_real_fitbit_files_load_every_row_then_nothing_on_a_second_run(
    fresh_database_url: str, drop: Path
) -> None:
    for name in ("dailyActivity_merged.csv", "sleepDay_merged.csv"):
        shutil.copy(FITBIT / name, drop / name)

    first = ingest_paths(fresh_database_url, [drop], drop_dir=drop)

    by_name = {Path(result.path).name: result for result in first.files}
    activity, sleep = by_name["dailyActivity_merged.csv"], by_name["sleepDay_merged.csv"]
    assert (activity.status, activity.rows_loaded, activity.target_table) == (
        "loaded",
        940,
        "daily_activity",
    )
    assert (sleep.status, sleep.rows_loaded, sleep.target_table) == ("loaded", 413, "sleep")
    assert first.ok and first.files_loaded == 2 and first.rows_loaded == 1353
    assert query(fresh_database_url, "select count(*) from raw.daily_activity") == [(940,)]
    assert query(fresh_database_url, "select count(*) from raw.sleep") == [(413,)]

    second = ingest_paths(fresh_database_url, [drop], drop_dir=drop)

    assert [result.status for result in second.files] == ["skipped", "skipped"]
    assert second.rows_loaded == 0 and second.ok
    assert query(fresh_database_url, "select count(*) from raw.daily_activity") == [(940,)]
    manifest = query(
        fresh_database_url, "select status, count(*) from ops.file_loads group by 1 order by 1"
    )
    assert manifest == [("loaded", 2), ("skipped", 2)]


def test_rows_are_lossless_text_with_lineage_and_the_header_is_kept(
    database_url: str, drop: Path
) -> None:
    source = FITBIT / "dailyActivity_merged.csv"
    path = drop / "activity.csv"
    shutil.copy(source, path)
    result = ingest_paths(database_url, [path], drop_dir=drop).files[0]

    rows = load_rows(
        database_url,
        "daily_activity",
        result.load_id,
        "id, activity_date, total_distance, calories, _row_number",
    )
    assert rows[0] == ("1503960366", "4/12/2016", "8.5", "1985", 2)
    assert rows[1][2] == "6.96999979019165"  # the float32 digits stay exactly as written
    assert rows[-1][4] == 941  # _row_number is the physical line number
    header, sha, status, source_format, hint = query(
        database_url,
        "select header, sha256, status, source_format, user_id_hint from ops.file_loads"
        " where load_id = %s",
        result.load_id,
    )[0]
    assert (source_format, hint) == ("fitbit_daily_activity", None)
    assert header == source.read_text().splitlines()[0].split(",")
    assert sha == result.sha256 and status == "loaded"


def test_a_changed_file_loads_as_a_new_version(database_url: str, drop: Path) -> None:
    path = write(drop, "v.csv", f"{ACTIVITY_HEADER}\r\n{activity_row(steps=1)}\r\n")
    first = ingest_paths(database_url, [path], drop_dir=drop).files[0]
    write(drop, "v.csv", f"{ACTIVITY_HEADER}\r\n{activity_row(steps=2)}\r\n")
    second = ingest_paths(database_url, [path], drop_dir=drop).files[0]

    assert first.status == second.status == "loaded"
    assert second.load_id > first.load_id and second.sha256 != first.sha256
    assert load_rows(database_url, "daily_activity", first.load_id, "total_steps") == [("1",)]
    assert load_rows(database_url, "daily_activity", second.load_id, "total_steps") == [("2",)]


def test_same_content_under_another_name_is_not_loaded_again(database_url: str, drop: Path) -> None:
    content = f"{ACTIVITY_HEADER}\n{activity_row(steps=77)}\n"
    a, b = write(drop, "a.csv", content), write(drop, "b.csv", content)
    first = ingest_paths(database_url, [a], drop_dir=drop).files[0]
    again = ingest_paths(database_url, [b], drop_dir=drop).files[0]
    assert (first.status, again.status) == ("loaded", "skipped")
    assert again.load_id == first.load_id and again.error is None
    assert again.message == f"same content already loaded as load {first.load_id} ({a})"
    # In the manifest too, a skip is a note, not an error.
    assert query(
        database_url,
        "select status, error, message from ops.file_loads where path = %s",
        str(b.resolve()),
    ) == [("skipped", None, again.message)]


def test_encodings_line_ends_quoting_and_gzip(database_url: str, drop: Path) -> None:
    quoted = '1503960366,"4/12/2016",5,"8,5","line\r\nbreak",0,"say ""hi""",0,0,0,1,2,3,4,5'
    variants = {
        "bom_crlf.csv": ("\ufeff" + ACTIVITY_HEADER + "\r\n" + activity_row(steps=11) + "\r\n"),
        "lf_no_final_newline.csv": ACTIVITY_HEADER + "\n" + activity_row(steps=12),
        "quoted.csv": ACTIVITY_HEADER + "\n" + quoted + "\n" + activity_row(steps=13) + "\n",
    }
    paths = [write(drop, name, content) for name, content in variants.items()]
    gz = drop / "packed.csv.gz"
    gz.write_bytes(gzip.compress(f"{ACTIVITY_HEADER}\r\n{activity_row(steps=14)}\r\n".encode()))
    report = ingest_paths(database_url, [*paths, gz], drop_dir=drop)

    assert report.ok, report.files
    results = {Path(result.path).name: result for result in report.files}
    steps = {
        name: [
            row[0] for row in load_rows(database_url, "daily_activity", r.load_id, "total_steps")
        ]
        for name, r in results.items()
    }
    assert steps == {
        "bom_crlf.csv": ["11"],
        "lf_no_final_newline.csv": ["12"],
        "quoted.csv": ["5", "13"],
        "packed.csv.gz": ["14"],
    }
    quoted_row = load_rows(
        database_url,
        "daily_activity",
        results["quoted.csv"].load_id,
        "activity_date, total_distance, tracker_distance, very_active_distance, _row_number",
    )
    assert quoted_row[0] == ("4/12/2016", "8,5", "line\r\nbreak", 'say "hi"', 2)
    assert quoted_row[1][-1] == 4  # the quoted line break made the record two lines long
    assert query(
        database_url,
        "select id from raw.daily_activity where _load_id = %s",
        results["bom_crlf.csv"].load_id,
    ) == [("1503960366",)]


def test_a_new_column_is_added_to_the_table(database_url: str, drop: Path) -> None:
    header = ACTIVITY_HEADER + ",Floors Climbed (count)"
    path = write(drop, "wider.csv", f"{header}\n{activity_row(steps=5)},12\n")
    result = ingest_paths(database_url, [path], drop_dir=drop).files[0]
    assert result.status == "loaded"
    assert load_rows(database_url, "daily_activity", result.load_id, "floors_climbed_count") == [
        ("12",)
    ]


def test_canonical_formats_land_in_the_same_tables(database_url: str, drop: Path) -> None:
    activity = write(
        drop,
        "mine_activity.csv",
        "user_id,date,steps,distance_km,calories_kcal\nalice,2024-01-01,9000,6.3,2100\n",
    )
    sleep = write(
        drop,
        "mine_sleep.csv",
        "user_id,date,minutes_asleep,minutes_in_bed\nalice,2024-01-01,420,450\n",
    )
    report = ingest_paths(database_url, [activity, sleep], drop_dir=drop)
    assert [(r.source_format, r.target_table, r.rows_loaded) for r in report.files] == [
        ("canonical_daily_activity", "daily_activity", 1),
        ("canonical_sleep", "sleep", 1),
    ]
    assert load_rows(database_url, "sleep", report.files[1].load_id, "user_id, minutes_asleep") == [
        ("alice", "420")
    ]


def test_header_columns_with_the_same_safe_name_load_into_distinct_columns(
    database_url: str, drop: Path
) -> None:
    path = write(drop, "dupes.csv", "user_id,date,steps,x,X,x_2\ndora,2024-01-01,1,a,b,c\n")
    result = ingest_paths(database_url, [path], drop_dir=drop).files[0]
    assert result.status == "loaded", result.error
    assert load_rows(database_url, "daily_activity", result.load_id, "x, x_2, x_2_2") == [
        ("a", "b", "c")
    ]


def _columns(url: str, table: str) -> set[str]:
    return {
        row[0]
        for row in query(
            url,
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = %s",
            table,
        )
    }


def test_a_file_that_does_not_load_leaves_the_table_as_it_was(
    database_url: str, drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recognised, new columns, then failed inside the load: the file changes under it.
    path = write(drop, "new_cols.csv", "user_id,date,steps,never_seen_before\nu,2024-01-01,1,x\n")

    def fingerprint_then_change(file: Path) -> Fingerprint:
        seen = fingerprint(file)
        write(drop, "new_cols.csv", "user_id,date,steps,never_seen_before\nu,2024-01-01,2,x\n")
        return seen

    monkeypatch.setattr(loader, "fingerprint", fingerprint_then_change)
    result = ingest_paths(database_url, [path], drop_dir=drop).files[0]
    assert result.status == "failed"
    assert "never_seen_before" not in _columns(database_url, "daily_activity")


def test_a_file_changed_between_fingerprint_and_load_is_rolled_back(
    database_url: str, drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(drop, "moving.csv", f"{ACTIVITY_HEADER}\r\n{activity_row(steps=31)}\r\n")
    fingerprinted = fingerprint(path)

    def fingerprint_then_change(file: Path) -> Fingerprint:
        """The seam: the file is rewritten right after the loader fingerprints it."""
        seen = fingerprint(file)
        write(drop, "moving.csv", f"{ACTIVITY_HEADER}\r\n{activity_row(steps=32)}\r\n")
        return seen

    monkeypatch.setattr(loader, "fingerprint", fingerprint_then_change)
    result = ingest_paths(database_url, [path], drop_dir=drop).files[0]
    monkeypatch.undo()

    assert (result.status, result.error, result.load_id) == (
        "failed",
        "file changed while loading; retry",
        None,
    )
    assert result.sha256 == fingerprinted.sha256
    assert query(database_url, "select count(*) from raw.daily_activity where total_steps = '32'")[
        0
    ] == (0,)
    assert query(
        database_url, "select status, error from ops.file_loads where sha256 = %s", result.sha256
    ) == [("failed", result.error)]
    again = ingest_paths(database_url, [path], drop_dir=drop).files[0]  # the retry
    assert again.status == "loaded" and again.sha256 != fingerprinted.sha256
    assert load_rows(database_url, "daily_activity", again.load_id, "total_steps") == [("32",)]


def test_the_source_hashes_the_bytes_it_reads_plain_or_gzip(drop: Path) -> None:
    for name, content in (
        ("plain.csv", f"{ACTIVITY_HEADER}\n{activity_row()}\n".encode()),
        ("packed.csv.gz", gzip.compress(f"{ACTIVITY_HEADER}\n{activity_row()}\n".encode())),
    ):
        path = write(drop, name, content)
        with CsvSource(path, block_size=16) as source:
            for _ in source.blocks():
                pass
            assert source.fingerprint() == fingerprint(path)


def test_a_file_of_many_blocks_with_mixed_line_ends_and_special_values_loads_exactly(
    database_url: str, drop: Path
) -> None:
    """Several 1 MiB blocks: CR LF ones (the COPY's line end), LF ones (converted), one that
    needs csv.reader (quotes), values COPY treats specially, and no final line end."""
    crlf = [activity_row(steps=n) for n in range(20_000)]
    lf = [activity_row(steps=n, day="é\\N") for n in range(20_000, 40_000)]
    lf[5] = lf[5].replace("é\\N", '"é,\\N"')
    special = activity_row(steps=99).replace("8.5,8.5", "\\.,tab\there")
    special = special.replace("1.87", "\x0b\x0c\x1c\x1d\x1e\x85")
    content = "\r\n".join([ACTIVITY_HEADER, *crlf]) + "\r\n" + "\n".join([*lf, special])
    path = write(drop, "many_blocks.csv", content)
    assert path.stat().st_size > 2 << 20
    result = ingest_paths(database_url, [path], drop_dir=drop).files[0]

    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 40_001, 0)
    rows = load_rows(
        database_url,
        "daily_activity",
        result.load_id,
        "_row_number, total_steps, activity_date, total_distance, tracker_distance,"
        " very_active_distance",
    )
    assert [row[0] for row in rows] == list(range(2, 40_003))
    assert [row[1] for row in rows[:-1]] == [str(n) for n in range(40_000)]
    assert rows[20_000][2:] == ("é\\N", "8.5", "8.5", "1.87")
    assert rows[20_005][2] == "é,\\N"  # quoted: one field
    assert rows[-1] == (40_002, "99", "4/12/2016", "\\.", "tab\there", "\x0b\x0c\x1c\x1d\x1e\x85")
