"""`wearable ingest`, `wearable generate-csv` and `wearable formats`: thin shells over
`ingest.loader.ingest_paths`, `synth.generate_csv` and the format registry."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from wearable_pipeline.commands.common import (
    console,
    database_url,
    err_console,
    fail,
    is_terminal,
)
from wearable_pipeline.config import get_settings
from wearable_pipeline.ingest.formats import FORMATS
from wearable_pipeline.ingest.report import IngestReport
from wearable_pipeline.synth.fitbit import GROUPS

_STATUS_STYLE = {
    "loaded": "green",
    "skipped": "dim",
    "unrecognised": "yellow",
    "rejected": "red",
    "failed": "bold red",
}


def ingest(
    paths: list[Path] = typer.Argument(
        None, help="CSV files or folders (walked recursively). Default: the data dir."
    ),
    user_id: str = typer.Option(
        None, "--user-id", help="User of single-user exports (default: their folder name)."
    ),
    include_forgotten: bool = typer.Option(
        False,
        "--include-forgotten",
        help="Also load rows of participants removed with `wearable forget` (left out by default).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Load CSV exports into the raw tables; exit 1 when a file was rejected or failed."""
    from wearable_pipeline.ingest.loader import ingest_paths

    settings = get_settings()
    targets = list(paths) if paths else [settings.data_dir]
    if not paths and not settings.data_dir.is_dir():
        err_console.print(
            f"nothing to ingest: the data dir {settings.data_dir} does not exist "
            "(drop CSV files there, or name files or folders)"
        )
        raise typer.Exit(0)
    url = database_url(settings)
    report = ingest_paths(
        url,
        targets,
        drop_dir=settings.data_dir,
        user_id=user_id,
        progress=_progress_wanted(as_json),
        include_forgotten=include_forgotten,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    _print_problems(report)
    raise typer.Exit(0 if report.ok else 1)


def _progress_wanted(as_json: bool) -> bool:
    """Progress bars draw on stderr: show them when stderr is a terminal (whatever stdout is,
    so `wearable ingest > report.txt` still shows them), never with --json."""
    return not as_json and err_console.is_terminal


def _table_console() -> Console:
    """The shared console on a terminal; off it (a pipe, a log, CI) a wide one, so table
    cells are never folded and every file stays on one line for grep."""
    return console if is_terminal() else Console(width=1000)


def _print_report(report: IngestReport) -> None:
    if not report.files:
        console.print("no CSV files found")
        return
    table = Table(title="wearable ingest")
    for column, justify in (
        ("file", "left"),
        ("format", "left"),
        ("target", "left"),
        ("rows loaded", "right"),
        ("rejected", "right"),
        ("status", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for result in report.files:
        style = _STATUS_STYLE.get(result.status, "")
        table.add_row(
            result.path,
            result.source_format or "-",
            result.qualified_table or "-",
            f"{result.rows_loaded:,}",
            f"{result.rows_rejected:,}",
            f"[{style}]{result.status}[/]" if style else result.status,
        )
    _table_console().print(table)
    console.print(
        f"{report.files_loaded} file(s) loaded, {report.rows_loaded:,} row(s), "
        f"{report.rows_rejected:,} row(s) rejected (see raw.rejected_rows)",
        highlight=False,
    )


def _print_problems(report: IngestReport) -> None:
    """File-level problems and examples of rejected rows, on stderr: `file: line N: …`."""
    for result in report.files:
        if result.error:
            label = "warning" if result.status == "unrecognised" else "error"
            colour = "yellow" if label == "warning" else "red"
            err_console.print(
                f"[{colour}]{label}:[/] {result.path}: {result.error}",
                highlight=False,
                soft_wrap=True,
            )
        for row_error in result.row_errors:
            err_console.print(
                f"[yellow]rejected row:[/] {result.path}: {row_error}",
                highlight=False,
                soft_wrap=True,
            )
        if result.rows_rejected > len(result.row_errors):
            err_console.print(
                f"[yellow]rejected row:[/] {result.path}: … {result.rows_rejected:,} in all, "
                f"see raw.rejected_rows where load_id = {result.load_id}",
                highlight=False,
                soft_wrap=True,
            )


def generate_csv_command(
    users: int = typer.Option(20, "--users", min=1, help="Number of users."),
    days: int = typer.Option(30, "--days", min=1, help="Number of days from 2024-01-01."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same bytes."),
    out: Path = typer.Option(None, "--out", help="Output folder (default: <data dir>/synthetic)."),
    include: str = typer.Option(
        ",".join(GROUPS),
        "--include",
        help="File groups to write, comma-separated: daily (daily files, sleepDay, weight), "
        "hourly, minute (narrow, wide and minuteSleep), heartrate (heartrate_seconds).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the files written as JSON."),
) -> None:
    """Write a synthetic Fitbit (Fitabase) study export: every file, internally consistent.

    Minutes add up to hours and hours to days; heart rate is sampled every 5-15 s while the
    tracker is worn. The same arguments give the same bytes.
    """
    from wearable_pipeline.synth import generate_csv_files

    groups = [group.strip() for group in include.split(",") if group.strip()]
    out_dir = out or get_settings().data_dir / "synthetic"
    try:
        written = generate_csv_files(
            out_dir,
            users=users,
            days=days,
            seed=seed,
            include=groups,
            progress=_progress_wanted(as_json),
        )
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    if as_json:
        files = [
            {"path": str(file.path), "source_format": file.source_format, "rows": file.rows}
            for file in written
        ]
        typer.echo(
            json.dumps({"users": users, "days": days, "seed": seed, "files": files}, indent=2)
        )
        return
    for file in written:
        console.print(f"wrote {file.path} ({file.rows:,} rows)", highlight=False)


def formats(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the source formats `wearable ingest` recognises (by header)."""
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": fmt.name,
                        "target_table": fmt.qualified_table,
                        "signature": list(fmt.signature),
                        "required": list(fmt.required),
                        "user_id_column": fmt.user_id_column,
                        "description": fmt.description,
                    }
                    for fmt in FORMATS
                ],
                indent=2,
            )
        )
        return
    table = Table(title="known source formats")
    for column in ("format", "target", "recognised by header columns", "user id", "description"):
        table.add_column(column, overflow="fold")
    for fmt in FORMATS:
        table.add_row(
            fmt.name,
            fmt.qualified_table,
            ", ".join(fmt.signature),
            fmt.user_id_column or "(folder or --user-id)",
            fmt.description,
        )
    _table_console().print(table)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("ingest")(ingest)
    app.command("generate-csv")(generate_csv_command)
    app.command("formats")(formats)
