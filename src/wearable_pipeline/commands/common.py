"""Helpers shared by the command modules: settings, the database connection, error exits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from wearable_pipeline.config import Settings, get_settings

if TYPE_CHECKING:
    import psycopg

    from wearable_pipeline.orchestration.runner import PipelineOutcome, RunOptions

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def database_url(
    settings: Settings | None = None, *, migrated: bool = True, exit_code: int = 1
) -> str:
    """Resolve the database (starting the embedded one if needed) and migrate it.

    The one place a command process applies migrations (once per process, see
    `db.migrate.migrate_once`): every command that uses the database calls this first.
    """
    import psycopg

    from wearable_pipeline.db.connection import resolve_database_url
    from wearable_pipeline.db.embedded import EmbeddedServerError
    from wearable_pipeline.db.migrate import MigrationError, migrate_once

    settings = settings or get_settings()
    try:
        url = resolve_database_url(settings)
        if migrated:
            migrate_once(url)
    except (EmbeddedServerError, MigrationError, RuntimeError, psycopg.Error) as exc:
        raise fail(str(exc), code=exit_code) from exc
    return url


@contextmanager
def open_connection(settings: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A migrated connection for a command, closed afterwards."""
    from wearable_pipeline.db.connection import connect

    url = database_url(settings)
    with connect(url) as conn:
        yield conn


def start_prefect_server(settings: Settings) -> None:
    """Start the resident Prefect server in the background unless it runs (or is the user's).

    Commands call this first so that the server's start-up overlaps their own; the run then
    waits for it. Says so on stderr when it starts, since the first start takes ~15 s.
    """
    from wearable_pipeline.orchestration import prefect_server

    if settings.prefect_api_url or prefect_server.running(settings.home):
        return
    err_console.print(
        "starting the resident Prefect server (15-20 s the first time; it keeps running, "
        "`wearable prefect stop` stops it)",
        highlight=False,
    )
    try:
        prefect_server.start(settings.home, port=settings.prefect_port)
    except prefect_server.PrefectServerError as exc:
        raise fail(str(exc)) from exc


def run_or_fail(settings: Settings, options: RunOptions) -> PipelineOutcome:
    """`run_pipeline`, with a run that could not start turned into a clean error exit."""
    from wearable_pipeline.orchestration.prefect_server import PrefectServerError
    from wearable_pipeline.orchestration.runner import PipelineNotStarted, run_pipeline

    try:
        return run_pipeline(settings, options)
    except (PipelineNotStarted, PrefectServerError) as exc:
        raise fail(str(exc)) from exc


def is_terminal() -> bool:
    return sys.stdout.isatty()
