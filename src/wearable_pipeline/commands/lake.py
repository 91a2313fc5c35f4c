"""`wearable lake export`: a thin shell over `lake.export.export_to_lake`."""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wearable_pipeline.commands.common import console, database_url, err_console, fail
from wearable_pipeline.config import get_settings

lake_app = typer.Typer(help="The Parquet lake (WEARABLE_LAKE_DIR) for engines past one machine.")


@lake_app.command("export")
def export(
    lake: str = typer.Option(
        None, "--lake", help="Folder or fsspec URL of the lake (default: WEARABLE_LAKE_DIR)."
    ),
    no_events: bool = typer.Option(False, "--no-events", help="Export file loads only."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Copy every raw load and event not in the lake yet to Parquet, once each.

    Partitioned by table and load; each partition appears whole. A rerun exports nothing
    new; an export that was killed resumes where it stopped.
    """
    from wearable_pipeline.lake.export import export_to_lake

    settings = get_settings()
    lake_url = lake or settings.lake_dir
    if not lake_url:
        raise fail("no lake configured: set WEARABLE_LAKE_DIR or pass --lake", code=2)
    url = database_url(settings)
    show_bar = console.is_terminal and not as_json
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show_bar,
    ) as bar:
        tasks: dict[str, object] = {}

        def progress(description: str, done: int, total: int) -> None:
            if description not in tasks:
                tasks[description] = bar.add_task(description, total=total or None)
            bar.update(tasks[description], completed=done)  # type: ignore[arg-type]

        try:
            report = export_to_lake(url, lake_url, progress=progress, events=not no_events)
        except (OSError, ValueError, TypeError) as exc:
            raise fail(f"lake export to {lake_url}: {exc}") from exc
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    if not report.loads and not report.events:
        console.print(f"{report.lake}: up to date, nothing new to export", highlight=False)
        return
    table = Table(title=f"exported to {report.lake}")
    for column in ("what", "rows", "bytes"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for load in report.loads:
        table.add_row(
            f"load {load.load_id} raw.{load.target_table}", f"{load.rows:,}", f"{load.bytes:,}"
        )
    if report.events:
        table.add_row("events", f"{report.events.rows:,}", f"{report.events.bytes:,}")
    console.print(table)
    console.print(
        f"{report.rows:,} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add `wearable lake …` to the app."""
    app.add_typer(lake_app, name="lake")
