"""The one entry point: `wearable …`.

Commands are thin: they parse options, call a library function, and print. Each area keeps
its commands in `wearable_pipeline.commands.<area>`.
"""

from __future__ import annotations

import typer

from wearable_pipeline import __version__
from wearable_pipeline.commands import consent, db, events, ingest, lake, pipeline, transform
from wearable_pipeline.config import disable_telemetry
from wearable_pipeline.logs import configure_logging

app = typer.Typer(
    name="wearable",
    help="Wearable data pipeline: CSV drops and analytics events into PostgreSQL, "
    "modelled and tested with dbt, orchestrated with Prefect.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
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


for area in (db, ingest, events, transform, pipeline, consent, lake):
    area.register(app)


if __name__ == "__main__":
    app()
