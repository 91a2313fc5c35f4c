"""Benchmark: the same dbt project on PostgreSQL and on Apache Spark, from the same data.

Data: bench/transform.py's - a generated Fitbit export's daily and hourly files for N users x
D days through the CSV loader, and ~3 generated events per user-day COPYed into
raw.raw_events - at two sizes. Per size:
1. `dbt build` on PostgreSQL (models and data tests, no unit tests, as bench/transform.py);
2. `wearable lake export` of everything to a fresh Parquet lake: rows, bytes, rows/s;
3. `dbt build --target spark` from that lake (local[*] on this machine's cores).
Both builds run as a user runs them, `wearable dbt build …` in a new process each, so the
Spark figure includes the JVM start and the Spark session, its fixed cost; the ratio
spark/postgres at two sizes shows how each grows with the data. On one small machine Spark is
expected to lose: its strength is more machines (docs/scaling.md).

Runs on a private embedded PostgreSQL in a temporary folder (or BENCH_DATABASE_URL). Not a
test: `python bench/spark.py [--sizes 20x30,100x90]` (needs the spark extra and Java 17:
`make bench-spark`). Prints the figures and writes them to bench/results/spark.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg

# Run as `python bench/spark.py`: this folder is on sys.path.
from common import generated_export, scratch_database, scratch_server

from wearable_pipeline.config import PROJECT_ROOT, TELEMETRY_OFF, disable_telemetry
from wearable_pipeline.events.store import copy_events
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.lake.export import export_to_lake

RESULTS = PROJECT_ROOT / "bench" / "results" / "spark.json"
EVENTS_PER_USER_DAY = 3
BUILD = ["build", "--exclude-resource-type", "unit_test"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="20x30,100x90", help="comma-separated USERSxDAYS (default 20x30,100x90)"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    disable_telemetry()
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    figures: dict[str, Any] = {"machine_cpus": os.cpu_count(), "build_command": BUILD, "runs": []}
    with scratch_server() as server_url:
        for users, days in sizes:
            with (
                tempfile.TemporaryDirectory(prefix="wearable-bench-spark-") as tmp,
                scratch_database(server_url, "spark") as url,
            ):
                run = _run(url, Path(tmp), users=users, days=days, seed=args.seed)
            figures["runs"].append(run)
            print(json.dumps(run, indent=2), file=sys.stderr)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    failed = [run for run in figures["runs"] if not (run["postgres_ok"] and run["spark_ok"])]
    return 1 if failed else 0


def _run(url: str, work: Path, *, users: int, days: int, seed: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"users": users, "days": days}
    base, _ = generated_export(
        work / "data", users=users, days=days, extra_days=1, seed=seed, include=["daily", "hourly"]
    )
    report = ingest_paths(url, [base], drop_dir=work / "data")
    if not report.ok:
        raise SystemExit(f"CSV load failed: {report.to_dict()}")
    figures["csv_rows"] = report.rows_loaded
    figures["events"] = _copy_events(url, islice(_events(users, days, seed), users * days * 3))

    env = {
        **os.environ,
        **TELEMETRY_OFF,
        "DATABASE_URL": url,
        "WEARABLE_HOME": str(work / "home"),
        "WEARABLE_LAKE_DIR": str(work / "lake"),
    }
    postgres = _build(env, work, "postgres", [])
    figures["postgres_build_s"], figures["postgres_ok"] = postgres

    started = time.perf_counter()
    exported = export_to_lake(url, str(work / "lake"))
    figures["export_s"] = round(time.perf_counter() - started, 2)
    figures["export_rows"] = exported.rows
    figures["export_bytes"] = exported.bytes
    figures["export_rows_per_s"] = round(exported.rows / max(figures["export_s"], 1e-9))

    spark = _build(env, work, "spark", ["--target", "spark"])
    figures["spark_build_s"], figures["spark_ok"] = spark
    figures["spark_over_postgres"] = round(spark[0] / postgres[0], 2)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def _build(env: dict[str, str], work: Path, name: str, target: list[str]) -> tuple[float, bool]:
    """`wearable dbt build …` in a new process, as a user runs it; (seconds, succeeded)."""
    log = work / f"{name}.log"
    command = [sys.executable, "-m", "wearable_pipeline.cli", "dbt", *BUILD, *target]
    command += ["--target-path", str(work / f"target-{name}")]
    started = time.perf_counter()
    with log.open("w") as output:
        done = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    seconds = round(time.perf_counter() - started, 1)
    print(f"{name} build: {seconds}s, exit {done.returncode} (log {log})", file=sys.stderr)
    if done.returncode:
        print(log.read_text()[-3000:], file=sys.stderr)
    return seconds, done.returncode == 0


def _events(users: int, days: int, seed: int) -> Iterator[dict[str, Any]]:
    from wearable_pipeline.events.generator import generate_events

    while True:
        yield from generate_events(users=users, days=days, seed=seed)
        seed += 1


def _copy_events(url: str, events: Iterator[dict[str, Any]]) -> int:
    """COPY events as the API stores them, received a few seconds after they happened."""

    def received_at(event: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(event["client_ts"]) + timedelta(seconds=3)

    with psycopg.connect(url) as conn:
        return copy_events(conn, events, batch_id=uuid.uuid4(), received_at=received_at)


if __name__ == "__main__":
    sys.exit(main())
