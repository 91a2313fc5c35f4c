"""`wearable stop`: stop everything this project runs in the background."""

from __future__ import annotations

import typer

from wearable_pipeline.commands.common import console
from wearable_pipeline.config import get_settings


def stop_command() -> None:
    """Stop everything started under WEARABLE_HOME: API, watch, schedule, dbt worker, Prefect,
    database.

    Servers you configured (DATABASE_URL, PREFECT_API_URL) are left alone.
    """
    from wearable_pipeline.orchestration.shutdown import stop_everything

    for line in stop_everything(get_settings()):
        console.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("stop")(stop_command)
