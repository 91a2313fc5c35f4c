"""Helpers shared by the command modules: settings, the database connection, error exits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import typer
from rich.console import Console

from wearable_pipeline.config import Settings, get_settings
from wearable_pipeline.db.connection import connect, resolve_database_url
from wearable_pipeline.db.embedded import EmbeddedServerError
from wearable_pipeline.db.migrate import MigrationError, migrate

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def database_url(settings: Settings | None = None, *, migrated: bool = True) -> str:
    """Resolve the database (starting the embedded one if needed) and apply migrations."""
    settings = settings or get_settings()
    try:
        url = resolve_database_url(settings)
        if migrated:
            with connect(url) as conn:
                migrate(conn)
    except (EmbeddedServerError, MigrationError, RuntimeError, psycopg.Error) as exc:
        raise fail(str(exc)) from exc
    return url


@contextmanager
def open_connection(settings: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A migrated connection for a command, closed afterwards."""
    url = database_url(settings)
    with connect(url) as conn:
        yield conn


def is_terminal() -> bool:
    return sys.stdout.isatty()
