"""Benchmark: intraday data at study scale - heart rate every 5-15 s, minute files - through
ingest and dbt: speed, bytes per sample, and the cost of one more day.

Generates a whole Fitbit export (heart rate, minute narrow and wide, minute sleep, hourly,
daily) for `--users` participants over `--days` days plus one more day, split by date into
the first days and the day that arrives later. Then:

- ingest: `wearable ingest`'s loader in a subprocess (its peak RSS is its own), rows/s on the
  heart-rate file against `psql \\copy` of the same file into a table of the same shape (the
  floor: no processing at all);
- bytes per heart-rate sample: `pg_total_relation_size` of the raw table, of the staging
  model (a view: no rows of its own) and of the heart-rate rollups, and of their indexes,
  divided by the samples;
- dbt: a full `dbt build` (models and data tests), the new day ingested, an incremental build;
  the share of the full build it costs (target <= 10%);
- the peak RSS of the ingest and dbt processes, and the machine's load average before and
  after (2 cores here: whatever else runs skews every figure).

Targets (issue 9): ingest >= 0.6x the floor with memory under 100 MB; <= 150 bytes per sample
all in; incremental build <= 10% of the full one. Uses a scratch database of its own
(bench/common.py). Not part of `make test`:

    .venv/bin/python bench/intraday.py [--users 75] [--days 30]

Prints the figures and writes them to bench/results/intraday.json.
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
from typing import Any

import psycopg

# Run as `python bench/intraday.py`: this folder is on sys.path.
from common import generated_export, scratch_database, scratch_server

from wearable_pipeline.config import PROJECT_ROOT, disable_telemetry
from wearable_pipeline.db import embedded

RESULTS = PROJECT_ROOT / "bench" / "results" / "intraday.json"
HEART_RATE_FILE = "heartrate_seconds_merged.csv"

# Each measured step runs in a process of its own, so that its peak RSS (VmHWM) is its own.
_INGEST = """
import json, sys, time
from pathlib import Path
from wearable_pipeline.ingest.loader import ingest_paths
folder = Path(sys.argv[2])
started = time.perf_counter()
report = ingest_paths(sys.argv[1], [folder], drop_dir=folder)
elapsed = time.perf_counter() - started
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({
    "ok": report.ok, "seconds": elapsed, "rows": report.rows_loaded,
    "files": {Path(f.path).name: [f.status, f.rows_loaded, f.duration_s] for f in report.files},
    "peak_rss_mb": peak_kb / 1024,
}))
"""

_DBT = """
import json, sys, time
from pathlib import Path
from wearable_pipeline.config import Settings
from wearable_pipeline.transform.dbt import run_dbt
settings = Settings(_env_file=None, database_url=sys.argv[1], home=Path(sys.argv[2]))
args = json.loads(sys.argv[4])
result = run_dbt(args, settings, target_path=Path(sys.argv[3]))
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
slowest = sorted(result.nodes, key=lambda n: n.execution_time, reverse=True)[:6]
print(json.dumps({
    "ok": result.success, "summary": result.summary(), "seconds": result.elapsed_seconds,
    "peak_rss_mb": peak_kb / 1024,
    "slowest": [f"{n.name} {n.execution_time:.1f}s" for n in slowest],
}))
"""

BUILD = ["--quiet", "build", "--exclude-resource-type", "unit_test"]


def _child(code: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"step failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ingest(url: str, folder: Path) -> dict[str, Any]:
    result = _child(_INGEST, url, str(folder))
    if not result["ok"]:
        raise SystemExit(f"ingest failed: {result['files']}")
    return result


def dbt(url: str, work: Path, args: list[str]) -> dict[str, Any]:
    result = _child(_DBT, url, str(work / "home"), str(work / "dbt-target"), json.dumps(args))
    print(f"  {result['summary']} in {result['seconds']:.1f} s", file=sys.stderr)
    if not result["ok"]:
        raise SystemExit(f"dbt failed: {result['summary']}")
    return result


def floor_seconds(url: str, path: Path) -> float:
    """`psql \\copy` of the file into a table shaped like the raw table (no lineage values)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists public.bench_floor")
        conn.execute("create table public.bench_floor (like raw.fitbit_heartrate_seconds)")
        conn.execute(
            "alter table public.bench_floor alter _load_id drop not null,"
            " alter _row_number drop not null"
        )
        conn.execute("checkpoint")
    psql = str(embedded.bundled_binary("psql"))
    command = (
        f"\\copy public.bench_floor (id, time, value) from '{path}' with (format csv, header true)"
    )
    started = time.perf_counter()
    subprocess.run([psql, url, "-qc", command], check=True)
    elapsed = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table public.bench_floor")
    return elapsed


# What stores heart rate: the raw table, its staging model, and the rollups dbt keeps.
STORAGE = {
    "raw": ["raw.fitbit_heartrate_seconds"],
    "staging": ["staging.stg_fitbit__heartrate_seconds"],
    "rollups": ["intermediate.int_heart_rate_minutes", "intermediate.int_heart_rate_daily"],
}


def bytes_per_sample(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        samples = conn.execute("select count(*) from raw.fitbit_heartrate_seconds").fetchone()[0]
        figures: dict[str, Any] = {"samples": samples}
        total = 0.0
        for layer, relations in STORAGE.items():
            table_bytes = index_bytes = 0
            for relation in relations:
                kind = conn.execute(
                    "select relkind from pg_class where oid = %s::regclass", [relation]
                ).fetchone()[0]
                if kind == "v":  # a view stores nothing
                    continue
                table_bytes += conn.execute(
                    "select pg_table_size(%s::regclass)", [relation]
                ).fetchone()[0]
                index_bytes += conn.execute(
                    "select pg_indexes_size(%s::regclass)", [relation]
                ).fetchone()[0]
            figures[layer] = round(table_bytes / samples, 1)
            figures[f"{layer}_indexes"] = round(index_bytes / samples, 1)
            total += (table_bytes + index_bytes) / samples
        figures["total"] = round(total, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=75)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    disable_telemetry()
    figures: dict[str, Any] = {"users": args.users, "days": args.days, "cores": os.cpu_count()}
    work = Path(tempfile.mkdtemp(prefix="wearable-bench-intraday-"))
    try:
        with scratch_server() as server_url, scratch_database(server_url, "intraday") as url:
            started = time.perf_counter()
            base, increment = generated_export(
                work / "data",
                users=args.users,
                days=args.days,
                extra_days=1,
                seed=args.seed,
                include=["daily", "hourly", "minute", "heartrate"],
            )
            figures["generate_s"] = round(time.perf_counter() - started, 1)
            figures["load_average_before"] = [round(x, 2) for x in os.getloadavg()]

            loaded = ingest(url, base)
            _, samples, seconds = loaded["files"][HEART_RATE_FILE]
            floor = floor_seconds(url, base / HEART_RATE_FILE)
            figures["ingest"] = {
                "rows": loaded["rows"],
                "seconds": round(loaded["seconds"], 1),
                "rows_per_s": round(loaded["rows"] / loaded["seconds"]),
                "heart_rate_samples": samples,
                "heart_rate_rows_per_s": round(samples / seconds),
                "floor_rows_per_s": round(samples / floor),
                "ratio_to_floor": round(floor / seconds, 2),
                "peak_rss_mb": round(loaded["peak_rss_mb"]),
            }
            full = dbt(url, work, BUILD)
            figures["storage_bytes_per_sample"] = bytes_per_sample(url)
            more = ingest(url, increment)
            incremental = dbt(url, work, BUILD)
            figures["build"] = {
                "full_s": round(full["seconds"], 1),
                "new_day_rows": more["rows"],
                "incremental_s": round(incremental["seconds"], 1),
                "incremental_share": round(incremental["seconds"] / full["seconds"], 3),
                "peak_rss_mb_full": round(full["peak_rss_mb"]),
                "peak_rss_mb_incremental": round(incremental["peak_rss_mb"]),
                "slowest_full": full["slowest"],
                "slowest_incremental": incremental["slowest"],
            }
            figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    ingest_figures, storage, build = (
        figures["ingest"],
        figures["storage_bytes_per_sample"],
        figures["build"],
    )
    print(
        f"\ningest: {ingest_figures['heart_rate_rows_per_s']:,} samples/s = "
        f"{ingest_figures['ratio_to_floor']}x psql \\copy (target >= 0.6x), peak RSS "
        f"{ingest_figures['peak_rss_mb']} MB (target < 100 MB)\n"
        f"storage: {storage['total']} bytes per sample all in (target <= 150): raw "
        f"{storage['raw']} + indexes {storage['raw_indexes']}, staging {storage['staging']}, "
        f"rollups {storage['rollups']} + indexes {storage['rollups_indexes']}\n"
        f"dbt: full {build['full_s']} s, one more day {build['incremental_s']} s = "
        f"{build['incremental_share']:.1%} (target <= 10%)"
    )
    met = (
        ingest_figures["ratio_to_floor"] >= 0.6
        and ingest_figures["peak_rss_mb"] < 100
        and storage["total"] <= 150
        and build["incremental_share"] <= 0.10
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
