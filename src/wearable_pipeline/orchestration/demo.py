"""`wearable demo`: the whole system end to end on generated data, with a summary.

Writes synthetic Fitbit-format CSVs into the data folder, starts the event API as a separate
process (as it runs in production), posts generated events to it — duplicates and invalid
ones included, so every counter moves — stops it, runs the Prefect flow on the resident
Prefect server (started in the background at the beginning, so its first start-up overlaps
the rest), prints what happened and writes the HTML report (`wearable report`). Deterministic
for a seed, so running it twice loads nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from wearable_pipeline.config import Settings
from wearable_pipeline.db.connection import connect
from wearable_pipeline.events.server_process import ApiStartError, EventApiProcess
from wearable_pipeline.orchestration import prefect_server
from wearable_pipeline.orchestration.runner import (
    PipelineNotStarted,
    PipelineOutcome,
    RunOptions,
    run_pipeline,
)
from wearable_pipeline.transform.dbt_worker import DbtWorker, open_worker


class DemoError(RuntimeError):
    """A demo step could not run; the message says which and why."""


@dataclass(frozen=True)
class DemoConfig:
    # A whole Fitbit export - heart rate every 5-15 s, minute files - of a small study: big
    # enough to show every column and a baseline (14 days), small enough for a first minute.
    # The intraday rollups' time grows with the samples: 10 users took dbt run 32 s, 3 take 12.
    users: int = 3
    days: int = 14
    seed: int = 42
    duplicate_rate: float = 0.03
    invalid_rate: float = 0.02
    batch_size: int = 500


@dataclass
class DemoResult:
    csv_files: list[Path] = field(default_factory=list)
    events_posted: dict[str, int] = field(default_factory=dict)
    outcome: PipelineOutcome | None = None
    report: Path | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome is not None and self.outcome.succeeded


def run_demo(
    settings: Settings, database_url: str, config: DemoConfig, console: Console
) -> DemoResult:
    """Run every part of the system once on a migrated database; print progress and a summary.

    Raises DemoError naming the step that could not run.
    """
    # dbt's import and the project's parse (all of it in a fresh clone) overlap the data's
    # generation and the events' posting rather than start with the pipeline run
    with open_worker(settings, database_url) as dbt:
        return _run_demo(settings, database_url, config, console, dbt)


def _run_demo(
    settings: Settings, database_url: str, config: DemoConfig, console: Console, dbt: DbtWorker
) -> DemoResult:
    from wearable_pipeline.events.generator import PostError, generate_events, post_events
    from wearable_pipeline.synth import generate_csv

    result = DemoResult()
    where = "DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {settings.home}"
    console.print(f"[green]✓[/] database ready ({where})")
    if not settings.prefect_api_url:
        try:
            prefect_server.start(settings.home, port=settings.prefect_port)
        except prefect_server.PrefectServerError as exc:
            raise DemoError(f"Prefect server: {exc}") from exc

    out_dir = Path(settings.data_dir) / "synthetic"
    with console.status(f"writing synthetic CSVs to {out_dir}…"):
        result.csv_files = generate_csv(
            out_dir, users=config.users, days=config.days, seed=config.seed
        )
    console.print(
        f"[green]✓[/] wrote a Fitbit study export, {len(result.csv_files)} files "
        f"({config.users} users × {config.days} days: daily, hourly, minute, heart rate) "
        f"to {out_dir}"
    )

    try:
        api_log = Path(settings.home) / "logs" / "demo-api.log"
        with (
            console.status("starting the event API…"),
            EventApiProcess(database_url, api_log) as api,
        ):
            console.print(f"[green]✓[/] event API up at {api.url} (log: {api_log})")
            with console.status("posting generated events…"):
                events = generate_events(
                    users=config.users,
                    days=config.days,
                    seed=config.seed,
                    duplicate_rate=config.duplicate_rate,
                    invalid_rate=config.invalid_rate,
                )
                result.events_posted = post_events(
                    api.events_url, events, batch_size=config.batch_size
                )
    except (ApiStartError, PostError) as exc:
        raise DemoError(f"event API: {exc}") from exc
    console.print(
        "[green]✓[/] events posted: {received} received, {accepted} accepted, "
        "{deduped} deduped, {rejected} rejected; API stopped".format(**result.events_posted)
    )

    # The report's code (plotly, jinja2) loads now, while a first-started Prefect server is
    # still starting, not after the flow: in a fresh clone Python compiles it on first import.
    import wearable_pipeline.report.page  # noqa: F401

    with console.status("running the pipeline (Prefect flow: ingest → dbt seed/run/test)…"):
        # The demo shows its own progress; the flow's per-step logs stay in Prefect's records.
        try:
            result.outcome = run_pipeline(
                settings,
                RunOptions(paths=[Path(settings.data_dir)]),
                prefect_log_level="WARNING",
                dbt=dbt,
            )
        except (PipelineNotStarted, prefect_server.PrefectServerError) as exc:
            raise DemoError(f"pipeline: {exc}") from exc
    mark = "[green]✓[/]" if result.outcome.succeeded else "[red]✗[/]"
    console.print(f"{mark} pipeline run {result.outcome.run.status}")
    if result.outcome.flow_run_url:
        console.print(
            f"  Prefect UI: {result.outcome.flow_run_url}", highlight=False, soft_wrap=True
        )
    print_summary(console, database_url, result)
    result.report = write_demo_report(settings, database_url, console)
    return result


def write_demo_report(settings: Settings, database_url: str, console: Console) -> Path:
    """`wearable report` with its defaults (the last four weeks with data); its path.

    Raises DemoError when the report cannot be written.
    """
    import psycopg

    from wearable_pipeline.report.page import ReportOptions, write_report
    from wearable_pipeline.report.rules import RulesError

    try:
        with console.status("writing the report…"), connect(database_url) as conn:
            written = write_report(conn, ReportOptions(), settings)
    except (RulesError, OSError, psycopg.Error) as exc:
        raise DemoError(f"report: {exc}") from exc
    console.print(
        f"[green]✓[/] report: {written.path} (charts for {written.period}; opens offline in "
        "any browser)",
        highlight=False,
        soft_wrap=True,
    )
    return written.path


def print_summary(console: Console, database_url: str, result: DemoResult) -> None:
    """The demo's closing summary, from what the database now holds."""
    from wearable_pipeline.events.store import ingest_totals

    run = result.outcome.run if result.outcome else None
    with connect(database_url) as conn:
        files = conn.execute(
            "select count(*) filter (where status = 'loaded'), coalesce(sum(rows_loaded), 0),"
            " coalesce(sum(rows_rejected), 0) from ops.file_loads"
        ).fetchone()
        totals = ingest_totals(conn)
        preview_columns, preview_rows = _summary_preview(conn)

    table = Table(title="Demo summary")
    table.add_column("")
    table.add_column("this run", justify="right")
    table.add_column("all time", justify="right")
    table.add_row(
        "CSV files loaded",
        str(run.files_loaded if run else 0),
        str(files[0] if files else 0),
    )
    table.add_row(
        "CSV rows loaded", str(run.rows_ingested if run else 0), str(files[1] if files else 0)
    )
    table.add_row("CSV rows rejected (kept)", "", str(files[2] if files else 0))
    for counter in ("received", "accepted", "deduped", "rejected"):
        table.add_row(
            f"events {counter}",
            str(result.events_posted.get(counter, 0)),
            str(totals.get(counter, 0)),
        )
    if run:
        table.add_row("dbt models built", str(run.models_built), "")
        table.add_row("dbt tests passed", str(run.tests_passed), "")
        table.add_row("dbt tests failed", str(run.tests_failed), "")
        table.add_row("pipeline status", run.status, "")
    console.print(table)
    if run and run.failed_tests:
        console.print("[red]failing tests:[/] " + ", ".join(run.failed_tests))
    if preview_rows:
        preview = Table(
            title="marts.daily_user_summary (first rows)", box=box.SIMPLE_HEAD, pad_edge=False
        )
        for column in preview_columns:
            preview.add_column(_PREVIEW_COLUMNS[column], no_wrap=True)
        for row in preview_rows:
            preview.add_row(*map(_cell, row))
        console.print(preview)


# Mart column → short heading, so the preview fits an 80-column terminal.
_PREVIEW_COLUMNS = {
    "user_id": "user",
    "summary_date": "date",
    "steps": "steps",
    "hourly_steps": "hourly",
    "minutes_asleep": "asleep",
    "mean_heart_rate_bpm": "bpm",
    "resting_heart_rate_bpm": "rest",
    "valid_hours": "worn h",
    "event_count": "events",
}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        return f"{value:.2f}"
    return str(value)


def _summary_preview(conn: Any, limit: int = 8) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A few rows of the mart, with the columns a person wants to see first."""
    exists = conn.execute("select to_regclass('marts.daily_user_summary')").fetchone()
    if not exists or exists[0] is None:
        return [], []
    available = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'daily_user_summary'"
        )
    }
    columns = [c for c in _PREVIEW_COLUMNS if c in available]
    if not columns:
        return [], []
    query = (
        f"select {', '.join(columns)} from marts.daily_user_summary"
        f" order by {columns[0]}, {columns[1] if len(columns) > 1 else columns[0]} limit %s"
    )
    return columns, conn.execute(query, [limit]).fetchall()
