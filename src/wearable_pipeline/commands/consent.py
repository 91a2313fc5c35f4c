"""`wearable forget` and `wearable forgotten`: a participant who withdraws consent."""

from __future__ import annotations

import getpass
import json
import sys

import typer
from rich.table import Table

from wearable_pipeline.commands.common import console, err_console, fail, open_connection


def forget(
    user_id: str = typer.Argument(..., help="The participant's user id (Fitbit Id, user_id, …)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count the rows that would go; delete nothing."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Delete every row of a participant who withdrew consent, everywhere.

    Raw tables, rejected rows, events, and every table dbt built lose the participant's
    rows in one transaction; ops.forgotten_participants records who and when (not the
    data), and later loads leave the participant out unless `wearable ingest
    --include-forgotten`. This cannot be undone.
    """
    from wearable_pipeline.consent.forget import forget_participant

    if not (dry_run or yes):
        if not sys.stdin.isatty():
            raise fail("deleting a participant's data needs --yes when not run interactively")
        if not typer.confirm(f"Delete every row of participant {user_id!r}? This cannot be undone"):
            raise typer.Exit(1)
    with open_connection() as conn:
        try:
            report = forget_participant(
                conn, user_id, requested_by=getpass.getuser(), dry_run=dry_run
            )
        except ValueError as exc:
            raise fail(str(exc), code=2) from exc
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "user_id": report.user_id,
                    "dry_run": report.dry_run,
                    "forgotten_at": report.forgotten_at.isoformat()
                    if report.forgotten_at
                    else None,
                    "rows": report.rows,
                    "total": report.total,
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"{'would delete' if dry_run else 'deleted'}: participant {user_id}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in report.rows.items():
        if count:
            table.add_row(name, f"{count:,}")
    console.print(table)
    verb = "would be deleted (dry run)" if dry_run else "deleted"
    console.print(f"{report.total:,} row(s) {verb}", highlight=False)
    if not report.total:
        err_console.print(f"no rows of participant {user_id!r} were found")


def forgotten(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the participants who were forgotten: who, when, by whom, rows deleted."""
    with open_connection() as conn:
        rows = conn.execute(
            "select user_id, forgotten_at, requested_by, rows_deleted"
            " from ops.forgotten_participants order by forgotten_at"
        ).fetchall()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "user_id": user,
                        "forgotten_at": when.isoformat(),
                        "requested_by": by,
                        "rows_deleted": deleted,
                    }
                    for user, when, by, deleted in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(title="forgotten participants")
    for column in ("user id", "forgotten at", "requested by", "rows deleted"):
        table.add_column(column)
    for user, when, by, deleted in rows:
        table.add_row(user, f"{when:%Y-%m-%d %H:%M}", by, f"{sum(deleted.values()):,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("forget")(forget)
    app.command("forgotten")(forgotten)
