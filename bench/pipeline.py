"""Benchmark: `wearable run` end to end, and where its time goes.

For each scale (100 users × 90 days, then 1,000 users × 365 days) it writes Fitbit-format
CSVs with `generate_csv`, posts generated events through the real API (up to `--max-events`;
the generator is day-major, so a cap keeps every user and the first days), then times
`wearable run` as a user starts it: a separate process, Prefect's temporary server, the
in-process dbt runs. The flow's own step timings come from `ops.pipeline_runs`; what is left
of the wall time is fixed cost (process start, imports, Prefect's temporary server). dbt's
fixed start-up is measured apart as a dbt invocation with nothing to do.

Not a test: `python bench/pipeline.py [--scales 100x90,1000x365] [--max-events N]`.
Prints a table per scale and writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg

# Run as `python bench/pipeline.py`: this folder is on sys.path, so its helpers import plainly.
from common import scratch_database, scratch_server

from wearable_pipeline.config import PROJECT_ROOT, disable_telemetry
from wearable_pipeline.events.generator import generate_events, post_events
from wearable_pipeline.events.server_process import EventApiProcess
from wearable_pipeline.synth import generate_csv
from wearable_pipeline.transform.dbt import run_dbt

RESULTS = PROJECT_ROOT / "bench" / "results" / "pipeline.json"
STEPS = ("migrate", "ingest", "dbt_seed", "dbt_run", "dbt_test")


def measure_scale(server_url: str, users: int, days: int, max_events: int) -> dict[str, Any]:
    with (
        scratch_database(server_url, f"pipe_{users}x{days}") as url,
        tempfile.TemporaryDirectory(prefix="wearable-bench-pipeline-") as tmp,
    ):
        work = Path(tmp)
        data_dir = work / "data"
        started = time.perf_counter()
        csv_files = generate_csv(data_dir / "synthetic", users=users, days=days, seed=42)
        generate_s = time.perf_counter() - started

        started = time.perf_counter()
        events = islice(generate_events(users=users, days=days, seed=42), max_events)
        with EventApiProcess(url, work / "api.log") as api:
            posted = post_events(api.events_url, events, batch_size=1000)
        events_s = time.perf_counter() - started

        env = {
            **os.environ,
            "DATABASE_URL": url,
            "WEARABLE_HOME": str(work / "home"),
            "WEARABLE_DATA_DIR": str(data_dir),
        }
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "wearable_pipeline.cli", "run", "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        wall_s = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(
                f"wearable run failed:\n{completed.stdout}\n{completed.stderr[-3000:]}"
            )
        record = json.loads(completed.stdout)

        dbt_cold_s, dbt_warm_s = _dbt_noop_seconds(url)
        with psycopg.connect(url) as conn:
            raw_rows = conn.execute(
                "select (select count(*) from raw.daily_activity)"
                " + (select count(*) from raw.sleep)"
            ).fetchone()[0]

    steps = {step: float(record["step_durations"].get(step, 0.0)) for step in STEPS}
    fixed_s = wall_s - sum(steps.values())
    return {
        "users": users,
        "days": days,
        "csv_files": len(csv_files),
        "csv_rows": raw_rows,
        "events_accepted": posted["accepted"],
        "generate_csv_s": round(generate_s, 2),
        "post_events_s": round(events_s, 2),
        "wall_s": round(wall_s, 2),
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "fixed_overhead_s": round(fixed_s, 2),
        "dbt_noop_cold_s": round(dbt_cold_s, 2),
        "dbt_noop_warm_s": round(dbt_warm_s, 2),
        "models_built": record["models_built"],
        "tests_passed": record["tests_passed"],
        "status": record["status"],
    }


_COLD_NOOP = """
import sys, time
started = time.perf_counter()
from wearable_pipeline.transform.dbt import run_dbt
run_dbt(["--quiet", "run", "--select", "source_priority"], database_url=sys.argv[1],
        migrate_first=False)
print(time.perf_counter() - started)
"""


def _dbt_noop_seconds(url: str) -> tuple[float, float]:
    """dbt's fixed cost: an invocation that selects nothing.

    Cold = the first in a process (importing dbt, reading the manifest), as the flow's seed
    step pays; warm = a later one in the same process, as its run and test steps pay.
    """
    cold = subprocess.run(
        [sys.executable, "-c", _COLD_NOOP, url], capture_output=True, text=True, check=True
    )
    noop = ["--quiet", "run", "--select", "source_priority"]
    run_dbt(noop, database_url=url, migrate_first=False)
    started = time.perf_counter()
    run_dbt(noop, database_url=url, migrate_first=False)
    return float(cold.stdout.strip()), time.perf_counter() - started


def print_scale(figures: dict[str, Any]) -> None:
    wall = figures["wall_s"]
    print(
        f"\n{figures['users']} users × {figures['days']} days: {figures['csv_rows']:,} CSV rows,"
        f" {figures['events_accepted']:,} events — `wearable run` {wall:.1f} s"
        f" ({figures['status']}, {figures['models_built']} models, "
        f"{figures['tests_passed']} tests)"
    )
    rows = [
        *figures["steps_s"].items(),
        ("fixed (process, Prefect server)", figures["fixed_overhead_s"]),
    ]
    for name, seconds in rows:
        print(f"  {name:<32} {seconds:8.2f} s  {seconds / wall:6.1%}")
    # the seed step starts dbt cold; run and test reuse it warm
    dbt_fixed = figures["dbt_noop_cold_s"] + 2 * figures["dbt_noop_warm_s"]
    fixed_share = (figures["fixed_overhead_s"] + dbt_fixed) / wall
    print(
        f"  fixed costs: process + Prefect {figures['fixed_overhead_s']:.1f} s, dbt start-up "
        f"{dbt_fixed:.1f} s (cold {figures['dbt_noop_cold_s']:.1f} s + 2 × warm "
        f"{figures['dbt_noop_warm_s']:.2f} s) = {fixed_share:.1%} of the run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="100x90,1000x365", help="USERSxDAYS,…")
    parser.add_argument("--max-events", type=int, default=1_000_000)
    args = parser.parse_args()
    disable_telemetry()
    scales = [tuple(int(n) for n in scale.split("x")) for scale in args.scales.split(",")]
    results = []
    with scratch_server() as server_url:
        for users, days in scales:
            figures = measure_scale(server_url, users, days, args.max_events)
            print_scale(figures)
            results.append(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
