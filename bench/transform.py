"""Benchmark: a full `dbt build` against an incremental one after 1% more data.

Data: 1,000 users x 365 days of a generated Fitbit export's daily and hourly files (every
daily file, sleepDay, weight, and the three hourly files: ~27M rows), loaded through the CSV
loader, and 1,000,000 generated events COPYed straight into raw.raw_events (the API's write
path is benchmarked by bench/api_load.py; here only dbt is measured). Events arrive
realistically: received_at a few seconds after client_ts, spread over the year.

Then 1% more data arrives - the next 4 days of every user's files, as new loads, and 1% more
events - and `dbt build` runs again. Target (issue 8): the incremental build costs at most 15%
of the full one. Both are `dbt build`s of the models and the data tests (dbt's unit tests have
static inputs: they belong in CI, as in make test; `--with-unit-tests` adds them); the project
is parsed once beforehand, untimed, so both reuse the saved manifest as a user's second run
would. The full build's data tests read whole tables; the incremental build's scoped tests
read only the rows written since the last green run (dbt/macros/verification.sql).
`incremental_share` compares the builds' wall time; `incremental_models_share` only the
models' own time.

Runs on a private embedded PostgreSQL in a temporary folder (or BENCH_DATABASE_URL, a server
where it may create a database). Not a test: `python bench/transform.py [--users N]
[--days N] [--events N]`. Prints the timings and writes them to bench/results/transform.json.
"""

from __future__ import annotations

import argparse
import json
import os
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
from common import generated_export, scratch_database, scratch_server
from psycopg import sql

from wearable_pipeline.config import PROJECT_ROOT, Settings, disable_telemetry
from wearable_pipeline.events.store import copy_events
from wearable_pipeline.ingest.loader import ingest_paths
from wearable_pipeline.transform.dbt import DbtResult, run_dbt

RESULTS = PROJECT_ROOT / "bench" / "results" / "transform.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--increment", type=float, default=0.01, help="share of new data (days and events)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--with-unit-tests",
        action="store_true",
        help="also run dbt's unit tests in both builds (they have static inputs: dbt advises "
        "running them in CI, as make test does, not on every production run)",
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

    extra_days = max(1, round(args.days * args.increment))
    started = time.perf_counter()
    base, increment = generated_export(
        work / "data",
        users=args.users,
        days=args.days,
        extra_days=extra_days,
        seed=args.seed,
        include=["daily", "hourly"],
    )
    figures["csv_generate_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    figures["csv_rows_loaded"] = _load_csvs(url, base, work / "data")
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
    if not args.with_unit_tests:
        build += ["--exclude-resource-type", "unit_test"]
    figures["build_command"] = "dbt " + " ".join(build)
    full = _timed_build(settings, target, build)
    figures["full_build_s"] = round(full.elapsed_seconds, 2)
    figures["full_build_models_s"] = _model_seconds(full)
    figures["full_build_ok"] = full.success
    figures["full_build_summary"] = full.summary()

    figures["new_days"] = extra_days
    figures["new_csv_rows"] = _load_csvs(url, increment, work / "data")
    figures["new_events"] = _copy_events(
        url, islice(events, int(args.events * args.increment)), arrived_now=True
    )
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
                "marts.hourly_activity",
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


def _load_csvs(url: str, folder: Path, drop_dir: Path) -> int:
    report = ingest_paths(url, [folder], drop_dir=drop_dir)
    if not report.ok:
        raise SystemExit(f"CSV load failed: {report.to_dict()}")
    return report.rows_loaded


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
