"""The one entry point: `wearable …`.

Commands are thin: they parse options, call a library function, and print. Each area keeps
its commands in `wearable_pipeline.commands.<area>`.
"""

from __future__ import annotations

import atexit
import gc

import typer

from wearable_pipeline import __version__
from wearable_pipeline.commands import (
    consent,
    db,
    events,
    ingest,
    lake,
    pipeline,
    prefect,
    report,
    services,
    transform,
    triggers,
)
from wearable_pipeline.config import disable_telemetry
from wearable_pipeline.logs import configure_logging

app = typer.Typer(
    name="wearable",
    help="Wearable data pipeline: CSV drops and analytics events into PostgreSQL, "
    "modelled and tested with dbt, orchestrated with Prefect.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Docstrings are wrapped at 100 columns: Markdown reflows their paragraphs to the
    # terminal (Typer's "rich" mode keeps each line break of the later paragraphs).
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wearable-data-pipeline {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    log_level: str = typer.Option("WARNING", "--log-level", help="DEBUG, INFO, WARNING, ERROR."),
    log_json: bool = typer.Option(
        None, "--log-json/--log-pretty", help="Force JSON-lines or pretty logs (default: auto)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    disable_telemetry()
    configure_logging(log_level.upper(), json=log_json)
    # Registered first, so it runs last, after Prefect's own exit handlers: without it the
    # interpreter's final garbage collection walks every object prefect and dbt created
    # (~0.8 s on each `wearable run`); the OS reclaims the memory anyway.
    atexit.register(gc.freeze)


for area in (
    db,
    ingest,
    events,
    transform,
    pipeline,
    triggers,
    prefect,
    services,
    consent,
    report,
    lake,
):
    area.register(app)


if __name__ == "__main__":
    app()
