"""Running the Prefect flow from Python or the CLI, with its run recorded in `ops.pipeline_runs`.

`run_pipeline()` is what `wearable run`, `wearable demo` and the tests call. It prepares
Prefect's environment (project-local home, temporary local server, telemetry off), records the
run, runs the flow and returns the recorded outcome — it does not raise for a failed run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wearable_pipeline.config import Settings, disable_telemetry
from wearable_pipeline.db.connection import connect, resolve_database_url
from wearable_pipeline.db.migrate import migrate
from wearable_pipeline.orchestration.run_records import PipelineRun, RunRecorder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """What one pipeline run does. Defaults: everything, on the data folder."""

    paths: list[Path] = field(default_factory=list)
    skip_ingest: bool = False
    skip_tests: bool = False
    select: list[str] = field(default_factory=list)
    unit_tests: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paths"] = [str(p) for p in self.paths]
        return data


@dataclass
class PipelineOutcome:
    run: PipelineRun
    summary: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        return self.run.status == "succeeded"


def configure_prefect(settings: Settings, log_level: str = "INFO") -> None:
    """Prefect settings for a fully local run; must happen before `prefect` is imported.

    Prefect keeps its state (a SQLite database) under WEARABLE_HOME, starts a temporary local
    server for the run (no account, no server to manage), and sends no telemetry.
    """
    disable_telemetry()
    home = Path(settings.home).expanduser().resolve() / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
        # A loaded 2-core laptop can take a while to boot the temporary server.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": log_level,
        "PREFECT_UI_ENABLED": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def run_pipeline(
    settings: Settings, options: RunOptions | None = None, *, prefect_log_level: str = "INFO"
) -> PipelineOutcome:
    """Run migrate → ingest → dbt seed → dbt run → dbt test as one Prefect flow run.

    Returns the recorded run: status `succeeded` or `failed` (with the failing test names or
    the error). Raises only when the database cannot be reached to record the run at all.
    """
    options = options or RunOptions()
    configure_prefect(settings, prefect_log_level)
    database_url = resolve_database_url(settings)
    with connect(database_url) as conn:
        migrate(conn)  # so the run can be recorded; the flow's own migrate step is then a no-op
    recorder = RunRecorder.start(database_url, options.as_json())

    # after configure_prefect: Prefect reads env on import
    from wearable_pipeline.orchestration import flow

    # Without explicit paths the data folder is ingested; a missing data folder means
    # "no drops yet", not a failed load.
    default_paths = [settings.data_dir] if Path(settings.data_dir).is_dir() else []
    paths = options.paths or default_paths
    token = flow.DATABASE_URL.set(database_url)
    summary: dict[str, Any] = {}
    try:
        summary = flow.wearable_pipeline(
            run_id=str(recorder.run_id),
            paths=[str(p) for p in paths],
            drop_dir=str(settings.data_dir),
            skip_ingest=options.skip_ingest,
            skip_tests=options.skip_tests,
            select=options.select,
            unit_tests=options.unit_tests,
        )
    except (flow.DataTestsFailed, flow.FilesRejected) as exc:
        return PipelineOutcome(recorder.finish("failed", str(exc)), summary)
    except Exception as exc:
        log.exception("pipeline run failed")
        return PipelineOutcome(recorder.finish("failed", f"{type(exc).__name__}: {exc}"), summary)
    finally:
        flow.DATABASE_URL.reset(token)
    return PipelineOutcome(recorder.finish("succeeded"), summary)


def stop_temporary_prefect_server() -> None:
    """Stop Prefect's temporary local server now, if this process started one.

    Prefect otherwise stops it at interpreter exit, when a test runner may already have closed
    the streams its last log line goes to. Calling it when no server runs does nothing.
    """
    import sys

    if "prefect.server.api.server" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    # Deliver the logs and events still queued for the server before it goes away.
    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=10)
    SubprocessASGIServer().stop()
