"""Benchmark: a full `dbt build` against an incremental one after 1% more events.

Data: 1,000 users x 365 days of generated Fitbit-format CSVs (activity and sleep), loaded
through the CSV loader, and 1,000,000 generated events COPYed straight into raw.raw_events
(the API's write path is benchmarked by bench/api_load.py; here only dbt is measured).
Events arrive realistically: received_at a few seconds after client_ts, spread over the
year, so the incremental run's look-back window holds only the newly arrived events.

Then 1% more events (10,000) arrive and `dbt build` runs again. Target (issue 4): the
incremental build costs at most 15% of the full one. Both builds are whole `dbt build`s
(seed, models, unit tests and every data test); the project is parsed once beforehand,
untimed, so both reuse the saved manifest as a user's second run would. The full build's
data tests read whole tables; the incremental build's read only the rows written since they
last passed (dbt/macros/test_scope.sql), as they would in the pipeline.
`incremental_share` compares the builds' wall time; `incremental_models_share` only the
models' own time.

Runs on a private embedded PostgreSQL in a temporary folder (or BENCH_DATABASE_URL, a server
where it may create a database). Not a test: `python bench/transform.py [--users N]
[--days N] [--events N]`. Prints the timings and writes them to bench/results/transform.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg

# Run as `python bench/transform.py`: this folder is on sys.path.
from common import scratch_database, scratch_server
from psycopg import sql

from wearable_pipeline.config import PROJECT_ROOT, Settings, disable_telemetry
from wearable_pipeline.events.store import copy_events
from wearable_pipeline.transform.dbt import DbtResult, run_dbt

RESULTS = PROJECT_ROOT / "bench" / "results" / "transform.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--increment", type=float, default=0.01, help="share of new events")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--exclude-unit-tests",
        action="store_true",
        help="build with --exclude-resource-type unit_test, both times (dbt's advice for "
        "production runs: unit tests have static inputs and belong in CI, as in make test)",
    )
    args = parser.parse_args()
    disable_telemetry()

    with (
        tempfile.TemporaryDirectory(prefix="wearable-bench-transform-") as tmp,
        scratch_server() as server_url,
        scratch_database(server_url, "transform") as url,
    ):
        figures = _run(url, Path(tmp), args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if figures["incremental_share"] <= 0.15 else 1


def _run(url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "users": args.users,
        "days": args.days,
        "machine_cpus": os.cpu_count(),
    }

    started = time.perf_counter()
    csv_paths, figures["csv_generator"] = _write_csvs(work / "data", args)
    figures["csv_generate_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    figures["csv_rows_loaded"], figures["csv_loader"] = _load_csvs(url, csv_paths, work / "data")
    figures["csv_load_s"] = round(time.perf_counter() - started, 1)

    events = _event_stream(args)
    started = time.perf_counter()
    figures["events_loaded"] = _copy_events(url, islice(events, args.events), arrived_now=False)
    figures["events_load_s"] = round(time.perf_counter() - started, 1)
    _analyze(url)

    settings = Settings(_env_file=None, database_url=url, home=work / "home")  # type: ignore[call-arg]
    target = work / "dbt-target"
    # Both builds start warm, like a user's second run: the project is parsed once (untimed)
    # with the same connection environment as the builds, so each build reuses the saved
    # manifest (partial parsing) instead of one paying for a full parse. A different
    # environment (another database, no WEARABLE_DB_* variables) would make dbt re-parse
    # everything ("Unable to do partial parsing because profile has changed").
    started = time.perf_counter()
    parsed = run_dbt(["--quiet", "parse"], settings, database_url=url, target_path=target)
    if not parsed.success:
        raise SystemExit(f"dbt parse failed: {parsed.error}")
    figures["warm_up_parse_s"] = round(time.perf_counter() - started, 2)
    figures["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    build = ["build"]
    if args.exclude_unit_tests:
        build += ["--exclude-resource-type", "unit_test"]
    figures["build_command"] = "dbt " + " ".join(build)
    full = _timed_build(settings, target, build)
    figures["full_build_s"] = round(full.elapsed_seconds, 2)
    figures["full_build_models_s"] = _model_seconds(full)
    figures["full_build_ok"] = full.success
    figures["full_build_summary"] = full.summary()

    increment = int(args.events * args.increment)
    figures["new_events"] = _copy_events(url, islice(events, increment), arrived_now=True)
    incremental = _timed_build(settings, target, build)
    figures["incremental_build_s"] = round(incremental.elapsed_seconds, 2)
    figures["incremental_build_models_s"] = _model_seconds(incremental)
    figures["incremental_build_ok"] = incremental.success
    figures["incremental_build_summary"] = incremental.summary()

    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    figures["incremental_share"] = round(incremental.elapsed_seconds / full.elapsed_seconds, 3)
    figures["incremental_models_share"] = round(
        figures["incremental_build_models_s"] / max(figures["full_build_models_s"], 1e-9), 3
    )
    figures["full_node_seconds_by_type"] = _seconds_by_type(full)
    figures["incremental_node_seconds_by_type"] = _seconds_by_type(incremental)
    figures["slowest_nodes_full"] = _slowest(full)
    figures["slowest_nodes_incremental"] = _slowest(incremental)
    with psycopg.connect(url) as conn:
        figures["rows"] = {
            table: conn.execute(
                sql.SQL("select count(*) from {}").format(sql.SQL(table))
            ).fetchone()[0]  # type: ignore[index]
            for table in (
                "staging.stg_daily_activity",
                "staging.stg_sleep",
                "staging.stg_events",
                "marts.daily_user_summary",
            )
        }
    return figures


def _timed_build(settings: Settings, target: Path, build: list[str]) -> DbtResult:
    result = run_dbt(["--quiet", *build], settings, target_path=target)
    print(f"{result.summary()} in {result.elapsed_seconds:.1f}s", file=sys.stderr)
    return result


def _model_seconds(result: DbtResult) -> float:
    return round(sum(n.execution_time for n in result.nodes if n.resource_type == "model"), 2)


def _seconds_by_type(result: DbtResult) -> dict[str, float]:
    """Node time summed per resource type (threads overlap: the sum exceeds the wall time)."""
    totals: dict[str, float] = {}
    for node in result.nodes:
        totals[node.resource_type] = totals.get(node.resource_type, 0.0) + node.execution_time
    return {kind: round(seconds, 2) for kind, seconds in sorted(totals.items())}


def _slowest(result: DbtResult, count: int = 6) -> list[str]:
    nodes = sorted(result.nodes, key=lambda n: n.execution_time, reverse=True)[:count]
    return [f"{n.name} {n.execution_time:.2f}s" for n in nodes]


# -- data ---------------------------------------------------------------------------------------


def _write_csvs(out_dir: Path, args: argparse.Namespace) -> tuple[list[Path], str]:
    """The project's synthetic CSV generator when present, else a simple stand-in."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        from wearable_pipeline.synth import generate_csv
    except ImportError:
        return _stand_in_csvs(out_dir, args), "bench stand-in"
    paths = generate_csv(out_dir, users=args.users, days=args.days, seed=args.seed)
    return list(paths), "wearable_pipeline.synth.generate_csv"


def _stand_in_csvs(out_dir: Path, args: argparse.Namespace) -> list[Path]:
    from wearable_pipeline.synth import synthetic_dates, synthetic_user_ids

    rng = random.Random(args.seed)
    users = synthetic_user_ids(args.users, args.seed)
    days = synthetic_dates(args.days)
    activity = out_dir / "dailyActivity_merged.csv"
    sleep = out_dir / "sleepDay_merged.csv"
    with activity.open("w", newline="") as a_file, sleep.open("w", newline="") as s_file:
        a_out, s_out = csv.writer(a_file), csv.writer(s_file)
        a_out.writerow(
            [
                *("Id", "ActivityDate", "TotalSteps", "TotalDistance", "VeryActiveMinutes"),
                *("FairlyActiveMinutes", "LightlyActiveMinutes", "SedentaryMinutes", "Calories"),
            ]
        )
        s_out.writerow(
            ["Id", "SleepDay", "TotalSleepRecords", "TotalMinutesAsleep", "TotalTimeInBed"]
        )
        for user in users:
            for day in days:
                fitbit_day = f"{day.month}/{day.day}/{day.year}"
                steps = rng.randint(0, 20000)
                a_out.writerow(
                    [user, fitbit_day, steps, round(steps * 0.00075, 2), 20, 15, 200, 900, 2100]
                )
                if rng.random() < 0.8:
                    asleep = rng.randint(300, 540)
                    s_out.writerow([user, f"{fitbit_day} 12:00:00 AM", 1, asleep, asleep + 30])
    return [activity, sleep]


def _load_csvs(url: str, paths: list[Path], drop_dir: Path) -> tuple[int, str]:
    """The project's CSV loader when present, else a plain COPY stand-in."""
    try:
        from wearable_pipeline.ingest.loader import ingest_paths
    except ImportError:
        return sum(_copy_csv(url, path) for path in paths), "bench COPY stand-in"
    report = ingest_paths(url, paths, drop_dir=drop_dir)
    if not report.ok:
        raise SystemExit(f"CSV load failed: {report}")
    return report.rows_loaded, "wearable_pipeline.ingest.loader.ingest_paths"


def _copy_csv(url: str, path: Path) -> int:
    from wearable_pipeline.ingest.naming import sql_safe_names

    activity = "activity" in path.name.lower()
    table, source_format = (
        ("daily_activity", "fitbit_daily_activity") if activity else ("sleep", "fitbit_sleep_day")
    )
    with path.open(newline="", encoding="utf-8-sig") as handle, psycopg.connect(url) as conn:
        reader = csv.reader(handle)
        columns = sql_safe_names(next(reader))
        load_id = conn.execute(
            "insert into ops.file_loads (path, file_name, size_bytes, sha256, source_format,"
            " target_table, status) values (%s, %s, %s, %s, %s, %s, 'loaded') returning load_id",
            [str(path), path.name, path.stat().st_size, uuid.uuid4().hex, source_format, table],
        ).fetchone()[0]  # type: ignore[index]
        target = ", ".join([*columns, "_load_id", "_row_number", "_source_format"])
        rows = 0
        with conn.cursor().copy(f"copy raw.{table} ({target}) from stdin") as copy:
            for rows, row in enumerate(reader, start=1):
                copy.write_row([*row, load_id, rows, source_format])
    return rows


def _event_stream(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Valid generated events for the same users, forever (a new seed when one runs out)."""
    from wearable_pipeline.events.generator import generate_events

    seed = args.seed
    while True:
        yield from generate_events(users=args.users, days=args.days, seed=seed)
        seed += 1


def _copy_events(url: str, events: Iterator[dict[str, Any]], *, arrived_now: bool) -> int:
    """COPY events into raw.raw_events as the API stores them (duplicate ids skipped).

    received_at: a few seconds after client_ts for the backlog (they arrived over the year),
    now() for the new ones.
    """
    now = datetime.now(UTC)

    def received_at(event: dict[str, Any]) -> datetime:
        if arrived_now:
            return now
        return datetime.fromisoformat(event["client_ts"]) + timedelta(seconds=3)

    with psycopg.connect(url) as conn:
        return copy_events(conn, events, batch_id=uuid.uuid4(), received_at=received_at)


def _analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("analyze")


if __name__ == "__main__":
    sys.exit(main())
