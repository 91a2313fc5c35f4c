"""`wearable stop`: stop everything this project started under WEARABLE_HOME, in order.

First the long-running processes (event API, watcher, scheduler), which use the rest; then
the resident dbt worker and Prefect server; then the embedded database. Servers the user configured
(`DATABASE_URL`, `PREFECT_API_URL`) are not ours to stop and are left alone.
"""

from __future__ import annotations

from wearable_pipeline.config import Settings
from wearable_pipeline.db import embedded
from wearable_pipeline.orchestration import prefect_server, processes
from wearable_pipeline.transform import resident_dbt


def stop_everything(settings: Settings) -> list[str]:
    """Stop it all; return one line per part saying what happened."""
    lines = []
    for process in processes.running(settings.home):
        processes.stop(process)
        lines.append(f"stopped {process.describe()}")
    if resident_dbt.stop(settings.home):
        lines.append("resident dbt worker stopped")
    if settings.prefect_api_url:
        lines.append("Prefect: PREFECT_API_URL is your server, left running")
    elif prefect_server.stop(settings.home):
        lines.append("Prefect server stopped")
    else:
        lines.append("Prefect server was not running")
    if settings.database_url:
        lines.append("database: DATABASE_URL is your server, left running")
    elif embedded.stop(settings.home):
        lines.append("embedded PostgreSQL stopped")
    else:
        lines.append("embedded PostgreSQL was not running")
    return lines
