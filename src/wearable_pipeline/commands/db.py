"""`wearable db …`: status, url, env, psql, stop, migrate."""

from __future__ import annotations

import os
import shlex

import typer

from wearable_pipeline.commands.common import console, database_url, fail
from wearable_pipeline.config import get_settings

db_app = typer.Typer(help="Manage the database (embedded PostgreSQL or DATABASE_URL).")


@db_app.command("status")
def status() -> None:
    """Show which database is used, whether it is up, and the applied migrations."""
    from wearable_pipeline.db import embedded
    from wearable_pipeline.db.connection import connect, redact
    from wearable_pipeline.db.migrate import applied_migrations

    settings = get_settings()
    if settings.database_url:
        console.print(f"database: [bold]DATABASE_URL[/] {redact(settings.database_url)}")
    else:
        state = embedded.status(settings.home)
        running = f"running (pid {state.pid})" if state.running else "stopped"
        console.print(f"database: [bold]embedded[/] in {state.pgdata} — {running}")
        if not state.running:
            console.print("it starts with the next command that needs it (`wearable db migrate`)")
            return
    url = database_url(settings, migrated=False)
    with connect(url) as conn:
        version = conn.execute("show server_version").fetchone()
        console.print(f"server: PostgreSQL {version[0] if version else '?'}")
        migrations = applied_migrations(conn)
    if migrations:
        console.print(f"migrations applied: {', '.join(name for _, name, _ in migrations)}")
    else:
        console.print("migrations applied: none yet (run `wearable db migrate`)")


@db_app.command("url")
def url() -> None:
    """Print the connection URL (starting the embedded server if needed)."""
    typer.echo(database_url(migrated=False))


@db_app.command("env")
def env() -> None:
    """Print `export` lines for dbt and psql: use as `eval "$(wearable db env)"`."""
    from wearable_pipeline.db.connection import connection_parts

    parts = connection_parts(database_url())
    for key, value in parts.as_env().items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@db_app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations (every command does this implicitly)."""
    from wearable_pipeline.db.connection import connect
    from wearable_pipeline.db.migrate import migrate

    url = database_url(migrated=False)
    with connect(url) as conn:
        applied = migrate(conn)
    if applied:
        console.print(f"applied: {', '.join(applied)}")
    else:
        console.print("database schema is up to date")


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(ctx: typer.Context) -> None:
    """Open psql on the database; extra arguments are passed to psql (e.g. -c 'select 1')."""
    from wearable_pipeline.db import embedded
    from wearable_pipeline.db.connection import connection_parts

    parts = connection_parts(database_url())
    binary = str(embedded.bundled_binary("psql"))
    # The connection goes through the environment, so a password never shows in `ps`.
    os.execve(binary, [binary, *ctx.args], {**os.environ, **parts.as_env()})


@db_app.command("stop")
def stop() -> None:
    """Stop the embedded server (no-op with DATABASE_URL)."""
    from wearable_pipeline.db import embedded

    settings = get_settings()
    if settings.database_url:
        raise fail("DATABASE_URL is set: this project does not manage that server", code=2)
    if embedded.stop(settings.home):
        console.print("embedded PostgreSQL stopped")
    else:
        console.print("embedded PostgreSQL was not running")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
