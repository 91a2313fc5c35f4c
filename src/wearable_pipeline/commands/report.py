"""`wearable report`: the study team's charts in one HTML file."""

from __future__ import annotations

import json
import webbrowser
from datetime import datetime
from pathlib import Path

import typer

from wearable_pipeline.commands.common import console, err_console, fail, open_connection
from wearable_pipeline.config import get_settings
from wearable_pipeline.report.period import DEFAULT_ARRIVAL_DAYS, DEFAULT_DAYS


def report(
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="The HTML file to write (default: WEARABLE_HOME/reports/report-FROM-to-TO.html).",
    ),
    date_from: datetime = typer.Option(
        None,
        "--from",
        formats=["%Y-%m-%d"],
        help=f"First data date (default: the {DEFAULT_DAYS} days up to --to, from the first"
        " day with device data).",
    ),
    date_to: datetime = typer.Option(
        None,
        "--to",
        formats=["%Y-%m-%d"],
        help="Last data date (default: the last day with device data).",
    ),
    arrival_days: int = typer.Option(
        DEFAULT_ARRIVAL_DAYS,
        "--arrival-days",
        min=1,
        help="Days of file and event arrivals the ingestion-health section shows, up to today.",
    ),
    open_browser: bool = typer.Option(
        False, "--open", help="Open the report in the default web browser."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write one self-contained HTML report (opens offline) for a period of data dates.

    Wear-hours heatmap and compliance table, daily steps and sleep per participant, the
    cohort against its personal step baselines, data volume per source with anomalies, and
    ingestion health. Build the marts first (`wearable run`); a chart without data says why.
    """
    from wearable_pipeline.report.page import ReportOptions, write_report
    from wearable_pipeline.report.period import PeriodError
    from wearable_pipeline.report.rules import RulesError

    settings = get_settings()
    options = ReportOptions(
        out=out,
        start=date_from.date() if date_from else None,
        end=date_to.date() if date_to else None,
        arrival_days=arrival_days,
    )
    with open_connection(settings) as conn:
        try:
            with console.status("writing the report…"):
                written = write_report(conn, options, settings)
        except PeriodError as exc:
            raise fail(str(exc), code=2) from exc
        except (RulesError, OSError) as exc:
            raise fail(str(exc)) from exc
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "path": str(written.path),
                    "from": written.period.start.isoformat(),
                    "to": written.period.end.isoformat(),
                    "bytes": written.size_bytes,
                    "charts": written.charts,
                    "empty": written.empty,
                },
                indent=2,
            )
        )
    else:
        console.print(
            f"[green]✓[/] report for {written.period} written to {written.path} "
            f"({written.size_bytes / 1_000_000:.1f} MB, opens offline)",
            highlight=False,
            soft_wrap=True,
        )
        for chart_id, reason in written.empty.items():
            err_console.print(f"  {chart_id}: no chart - {reason}", highlight=False)
    if open_browser:
        webbrowser.open(written.path.as_uri())


def register(app: typer.Typer) -> None:
    app.command("report")(report)
