"""`wearable dbt …`: dbt with the project's resolved connection, arguments passed through."""

from __future__ import annotations

import typer

from wearable_pipeline.commands.common import database_url, fail
from wearable_pipeline.config import get_settings

_PASS_THROUGH = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    # `wearable dbt --help` shows dbt's help, not an empty page of ours
    "help_option_names": [],
}


def dbt_command(ctx: typer.Context) -> None:
    """Run dbt (build, run, test, seed, docs generate, …) on the project's database.

    Every argument goes to dbt unchanged; --project-dir and --profiles-dir point into dbt/.
    The exit status is dbt's: 0 success, 1 failed models or tests, 2 dbt could not run.
    """
    from wearable_pipeline.db.connection import DatabaseUnavailableError
    from wearable_pipeline.db.embedded import EmbeddedServerError
    from wearable_pipeline.transform.dbt import needs_database, run_dbt

    args = list(ctx.args)
    if not args:
        args = ["--help"]
    settings = get_settings()
    # dbt's sources name the raw tables: migrate (once, here) before dbt touches the database
    url = database_url(settings, exit_code=2) if needs_database(args) else None
    try:
        result = run_dbt(args, settings, database_url=url)
    except (DatabaseUnavailableError, EmbeddedServerError) as exc:
        raise fail(str(exc), code=2) from exc
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add `wearable dbt` to the app."""
    app.command("dbt", context_settings=_PASS_THROUGH)(dbt_command)
