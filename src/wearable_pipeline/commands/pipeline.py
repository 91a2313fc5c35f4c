"""`wearable run`, `wearable runs`, `wearable demo`: the pipeline as one command."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from wearable_pipeline.commands.common import (
    console,
    database_url,
    err_console,
    fail,
    run_or_fail,
    start_prefect_server,
)
from wearable_pipeline.config import get_settings

if TYPE_CHECKING:
    from wearable_pipeline.orchestration.run_records import PipelineRun

# The run options `wearable run`, `schedule` and `watch` share.
SKIP_TESTS = typer.Option(False, "--skip-tests", help="Do not run dbt tests.")
SELECT = typer.Option(None, "--select", "-s", help="dbt selection for run and test (repeatable).")
UNIT_TESTS = typer.Option(
    False,
    "--unit-tests",
    help="Also run dbt unit tests (they check the SQL on fixed inputs; make test runs them).",
)


def run(
    paths: list[Path] = typer.Argument(
        None, help="Files or folders to ingest (default: the data folder, WEARABLE_DATA_DIR)."
    ),
    skip_ingest: bool = typer.Option(False, "--skip-ingest", help="Do not ingest CSV drops."),
    skip_tests: bool = SKIP_TESTS,
    select: list[str] = SELECT,
    unit_tests: bool = UNIT_TESTS,
    as_json: bool = typer.Option(False, "--json", help="Print the run record as JSON."),
) -> None:
    """Run the pipeline (Prefect flow): migrate → ingest → dbt seed → dbt run → dbt test.

    The run shows in the Prefect UI (its address is printed). Exit status 0 when the run
    succeeded, 1 when any step failed (failing dbt tests are named).
    """
    from wearable_pipeline.orchestration.runner import RunOptions

    settings = get_settings()
    start_prefect_server(settings)  # in the background, while the database starts
    database_url(settings)  # fail early and clearly when the database is unreachable
    for path in paths or []:
        if not path.exists():
            raise fail(f"{path}: no such file or folder", code=2)
    options = RunOptions(
        paths=list(paths or []),
        skip_ingest=skip_ingest,
        skip_tests=skip_tests,
        select=list(select or []),
        unit_tests=unit_tests,
    )
    outcome = run_or_fail(settings, options)
    record = outcome.run
    if as_json:
        data = {**_run_as_dict(record), "flow_run_url": outcome.flow_run_url}
        typer.echo(json.dumps(data, default=str, indent=2))
    else:
        _print_run(record, outcome.flow_run_url)
    if not outcome.succeeded:
        if record.failed_tests:
            err_console.print("[bold red]failing dbt tests:[/]")
            for name in record.failed_tests:
                err_console.print(f"  - {name}", highlight=False)
        if record.rejected_files:
            err_console.print("[bold red]files not loaded:[/]")
            for line in record.rejected_files:
                err_console.print(f"  - {line}", highlight=False)
        if not record.failed_tests and not record.rejected_files:
            err_console.print(f"[bold red]pipeline failed:[/] {record.error}", highlight=False)
        raise typer.Exit(1)


def runs(
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="How many runs to show."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List recent pipeline runs (from ops.pipeline_runs), newest first."""
    from wearable_pipeline.db.connection import connect
    from wearable_pipeline.orchestration.run_records import recent_runs

    with connect(database_url()) as conn:
        records = recent_runs(conn, limit)
    if as_json:
        typer.echo(json.dumps([_run_as_dict(r) for r in records], default=str, indent=2))
        return
    if not records:
        console.print("no pipeline runs yet: start one with `wearable run`")
        return
    table = Table(title="Pipeline runs", box=box.SIMPLE_HEAD)
    for column in (
        "run id",
        "started",
        "status",
        "seconds",
        "rows",
        "models",
        "tests ok",
        "failed",
    ):
        table.add_column(column)
    for record in records:
        table.add_row(
            str(record.run_id)[:8],
            record.started_at.strftime("%m-%d %H:%M"),
            _status_markup(record.status),
            f"{record.duration_s:.1f}" if record.duration_s is not None else "-",
            str(record.rows_ingested),
            str(record.models_built),
            str(record.tests_passed),
            ", ".join(record.failed_tests) or str(record.tests_failed),
        )
    console.print(table)


def demo(
    users: int = typer.Option(3, min=1, help="Synthetic users."),
    days: int = typer.Option(14, min=1, help="Days of data per user."),
    seed: int = typer.Option(42, help="Seed: the same seed writes the same data."),
) -> None:
    """Everything end to end on generated data: CSVs, events through the API, the flow, a summary.

    Safe to run again: the same seed produces the same files and events, so a second run loads
    nothing twice (files are skipped, events deduplicated).
    """
    from wearable_pipeline.orchestration.demo import DemoConfig, DemoError, run_demo

    settings = get_settings()
    start_prefect_server(settings)  # in the background: its first start takes a while
    with console.status("starting the database…"):
        url = database_url(settings)
    try:
        result = run_demo(settings, url, DemoConfig(users=users, days=days, seed=seed), console)
    except DemoError as exc:
        raise fail(str(exc)) from exc
    if not result.succeeded:
        raise typer.Exit(1)


def _status_markup(status: str) -> str:
    colour = {"succeeded": "green", "failed": "red"}.get(status, "yellow")
    return f"[{colour}]{status}[/]"


def _run_as_dict(record: PipelineRun) -> dict[str, object]:
    data = asdict(record)
    data["duration_s"] = record.duration_s
    return data


def _print_run(record: PipelineRun, flow_run_url: str | None) -> None:
    table = Table(title=f"Pipeline run {record.run_id}", show_header=False)
    table.add_column("")
    table.add_column("")
    table.add_row("status", _status_markup(record.status))
    table.add_row("duration", f"{record.duration_s:.1f} s" if record.duration_s else "-")
    # in the flow's order (the database returns them in its own)
    order = ("migrate", "ingest", "lake_export", "dbt_startup", "dbt_seed", "dbt_run", "dbt_test")
    durations = sorted(
        record.step_durations.items(),
        key=lambda item: order.index(item[0]) if item[0] in order else len(order),
    )
    steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in durations)
    table.add_row("steps", steps or "-")
    table.add_row("files loaded", str(record.files_loaded))
    table.add_row("files rejected", str(record.files_rejected))
    table.add_row("rows ingested", str(record.rows_ingested))
    table.add_row("models built", str(record.models_built))
    table.add_row("tests passed", str(record.tests_passed))
    table.add_row("tests failed", str(record.tests_failed))
    if record.error:
        table.add_row("error", record.error)
    console.print(table)
    if flow_run_url:
        console.print(f"Prefect UI: {flow_run_url}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("runs")(runs)
    app.command("demo")(demo)
