"""A whole Fitbit (Fitabase) export folder: every file is recognised and loads, once."""

from __future__ import annotations

from pathlib import Path

from wearable_pipeline.ingest.loader import ingest_paths

from .helpers import FITBIT, query


def test_every_file_of_the_real_export_loads_once(fresh_database_url: str, tmp_path: Path) -> None:
    files = sorted(FITBIT.glob("*.csv"))
    assert len(files) == 9
    first = ingest_paths(fresh_database_url, [FITBIT], drop_dir=tmp_path)
    assert [f.status for f in first.files] == ["loaded"] * 9, first.to_dict()
    assert first.rows_rejected == 0
    for result in first.files:
        lines = Path(result.path).read_bytes().count(b"\n")
        assert result.rows_loaded == lines - 1, result.path
    hourly = {
        f.source_format: (f.target_table, f.rows_loaded)
        for f in first.files
        if f.source_format.startswith("fitbit_hourly")
    }
    assert hourly == {
        "fitbit_hourly_steps": ("fitbit_hourly_steps", 22_099),
        "fitbit_hourly_calories": ("fitbit_hourly_calories", 22_099),
        "fitbit_hourly_intensities": ("fitbit_hourly_intensities", 22_099),
    }
    assert query(fresh_database_url, "select count(*) from raw.fitbit_weight_log") == [(67,)]

    again = ingest_paths(fresh_database_url, [FITBIT], drop_dir=tmp_path)
    assert [f.status for f in again.files] == ["skipped"] * 9
    assert again.rows_loaded == 0
