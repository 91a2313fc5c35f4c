"""Benchmark: `wearable ingest` vs the naive pandas load vs the `psql \\copy` floor.

Generates a 1,000,000-row Fitbit-format daily-activity file (and one twice as large for the
memory check), then measures rows/s for:

- ingest: `ingest_paths` in a fresh subprocess (so its peak RSS is its own);
- naive:  pandas `read_csv` + `DataFrame.to_sql` through SQLAlchemy (on a 100,000-row sample
          by default: it is slow, and a rate is per row; `--naive-rows 0` uses the full file);
- floor:  `psql \\copy` of the same file into an all-text table, no processing at all.

Uses a database of its own (bench/common.py): a scratch database on `BENCH_DATABASE_URL` when
set (dropped afterwards; the user needs CREATEDB), else a private embedded server in a
temporary folder, deleted afterwards. Not part of `make test`.

    .venv/bin/python bench/csv_ingest.py [--rows 1000000] [--naive-rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

# Run as `python bench/csv_ingest.py`: this folder is on sys.path.
from common import scratch_database, scratch_server

from wearable_pipeline.db import embedded
from wearable_pipeline.synth import generate_csv_files

_CHILD = """
import json, sys, time
from pathlib import Path
from wearable_pipeline.ingest.loader import ingest_paths
path = Path(sys.argv[2])
started = time.perf_counter()
report = ingest_paths(sys.argv[1], [path], drop_dir=path.parent)
elapsed = time.perf_counter() - started
result = report.files[0]
# VmHWM is this process's own peak RSS; getrusage's ru_maxrss would also count the parent's
# peak from before exec (Linux carries it over), which is not the loader's memory.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({"status": result.status, "rows": result.rows_loaded, "seconds": elapsed,
                  "peak_rss_mb": peak_kb / 1024}))
"""


def _generate(folder: Path, rows: int) -> Path:
    """A Fitbit-format dailyActivity file of `rows` rows: a generated export's activity file
    (1,000 users x 100 days) written over and over - a big file is what the benchmark needs,
    and generating a million realistic user-days takes minutes."""
    started = time.perf_counter()
    written = generate_csv_files(
        folder / "generated", users=1000, days=100, seed=2016, include=["daily"]
    )
    activity = next(f.path for f in written if f.source_format == "fitbit_daily_activity")
    header, *lines = activity.read_bytes().splitlines(keepends=True)
    path = folder / activity.name
    with path.open("wb") as out:
        out.write(header)
        for start in range(0, rows, len(lines)):
            out.write(b"".join(lines[: rows - start]))
    shutil.rmtree(folder / "generated")
    size_mb = path.stat().st_size / 1e6
    print(f"generated {rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path


def _fresh_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("truncate raw.daily_activity, raw.rejected_rows")
        conn.execute("delete from ops.file_loads where target_table = 'daily_activity'")
        conn.execute("drop table if exists public.bench_floor, public.bench_naive")
        conn.execute("checkpoint")


def measure_ingest(url: str, path: Path) -> dict[str, float]:
    _fresh_tables(url)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(path)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["status"] == "loaded", result
    return result


def measure_floor(url: str, path: Path, columns: int) -> float:
    _fresh_tables(url)
    with psycopg.connect(url, autocommit=True) as conn:
        definition = ", ".join(f"c{i} text" for i in range(columns))
        conn.execute(f"create table public.bench_floor ({definition})")
    psql = str(embedded.bundled_binary("psql"))
    command = f"\\copy public.bench_floor from '{path}' with (format csv, header true)"
    started = time.perf_counter()
    subprocess.run([psql, url, "-qc", command], check=True)
    return time.perf_counter() - started


def measure_naive(url: str, path: Path, rows: int) -> tuple[int, float]:
    import pandas as pd
    from sqlalchemy import create_engine

    _fresh_tables(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    started = time.perf_counter()
    frame = pd.read_csv(path, nrows=rows or None)
    frame.to_sql("bench_naive", engine, schema="public", index=False, if_exists="replace")
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(frame), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=100_000, help="0 = the whole file")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="wearable-bench-"))
    try:
        with scratch_server() as server_url, scratch_database(server_url, "ingest") as url:
            print(f"cores: {os.cpu_count()} (shared with whatever else runs on this machine)")
            one = _generate(work / "1x", args.rows)
            two = _generate(work / "2x", args.rows * 2)
            columns = len(one.open().readline().split(","))

            ingest = measure_ingest(url, one)
            floor_seconds = measure_floor(url, one, columns)
            naive_rows, naive_seconds = measure_naive(url, one, args.naive_rows)
            ingest_two = measure_ingest(url, two)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ingest_rate = ingest["rows"] / ingest["seconds"]
    floor_rate = args.rows / floor_seconds
    naive_rate = naive_rows / naive_seconds
    sample = f" (on the first {naive_rows:,} rows)" if naive_rows < args.rows else ""
    print()
    print(f"rows/s  wearable ingest : {ingest_rate:>10,.0f}  ({ingest['seconds']:.2f} s)")
    print(f"rows/s  pandas to_sql   : {naive_rate:>10,.0f}  ({naive_seconds:.2f} s){sample}")
    print(f"rows/s  psql \\copy floor: {floor_rate:>10,.0f}  ({floor_seconds:.2f} s)")
    print(
        f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"(on {os.cpu_count()} cores; other work skews every rate)"
    )
    print(f"ingest / naive  = {ingest_rate / naive_rate:5.1f}x   (target >= 10x)")
    print(f"ingest / floor  = {ingest_rate / floor_rate:5.2f}x   (target >= 0.5x)")
    print(
        f"peak RSS of the ingest process: {ingest['peak_rss_mb']:.0f} MB for "
        f"{args.rows:,} rows, {ingest_two['peak_rss_mb']:.0f} MB for {args.rows * 2:,} rows "
        f"({ingest_two['rows'] / ingest_two['seconds']:,.0f} rows/s)  (target < 300 MB, flat)"
    )


if __name__ == "__main__":
    main()
