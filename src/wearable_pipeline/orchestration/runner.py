"""Running the Prefect flow from Python or the CLI, and reading back its recorded outcome.

`run_pipeline()` is what `wearable run`, `wearable watch`, `wearable demo` and the tests call.
It points Prefect at its server (the resident one, started if needed, or PREFECT_API_URL),
runs the flow in this process, and returns the run as `ops.pipeline_runs` recorded it — it
does not raise for a failed run. The database must already be migrated: the calling process
does that where it starts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from wearable_pipeline.config import Settings
from wearable_pipeline.db.connection import DatabaseUnavailableError, resolve_database_url
from wearable_pipeline.db.embedded import EmbeddedServerError
from wearable_pipeline.orchestration.prefect_env import configure_prefect, wait_until_ready
from wearable_pipeline.orchestration.run_records import PipelineRun, get_run
from wearable_pipeline.transform.dbt_worker import DbtWorker, open_worker

log = logging.getLogger(__name__)


class PipelineNotStarted(RuntimeError):
    """The run could not be recorded or read back: Prefect or the database unreachable."""


@dataclass(frozen=True)
class RunOptions:
    """What one pipeline run does. Defaults: everything, on the data folder."""

    paths: list[Path] = field(default_factory=list)
    skip_ingest: bool = False
    skip_tests: bool = False
    select: list[str] = field(default_factory=list)
    unit_tests: bool = False
    # whose sub-folders name the users of single-user exports (None: the data folder)
    drop_dir: Path | None = None

    def as_json(self) -> dict[str, Any]:
        """The options as the flow takes them (and `ops.pipeline_runs.options` records them)."""
        data = asdict(self)
        data["paths"] = [str(p) for p in self.paths]
        data["drop_dir"] = str(self.drop_dir) if self.drop_dir else None
        return data


@dataclass
class PipelineOutcome:
    run: PipelineRun
    summary: dict[str, Any]
    flow_run_url: str | None = None  # the run's page in the Prefect UI

    @property
    def succeeded(self) -> bool:
        return self.run.status == "succeeded"


def run_pipeline(
    settings: Settings,
    options: RunOptions | None = None,
    *,
    prefect_log_level: str = "INFO",
    dbt: DbtWorker | None = None,
) -> PipelineOutcome:
    """Run migrate → ingest → dbt seed → dbt run → dbt test as one Prefect flow run.

    Returns the recorded run: status `succeeded` or `failed` (with the failing test names or
    the error). Raises PipelineNotStarted when the run could not even be recorded, and
    PrefectServerError when the resident Prefect server cannot start. `dbt`: a dbt worker the
    caller started earlier, to overlap dbt's start-up with its own work (else one is started
    here, first of all, and closed at the end).
    """
    options = options or RunOptions()
    try:
        database_url = resolve_database_url(settings)
    except EmbeddedServerError as exc:
        raise PipelineNotStarted(f"the pipeline run did not start: {exc}") from exc
    # First of all: dbt's import and parse then overlap everything up to the seed step,
    # the Prefect server's start included when it is not up yet.
    with ExitStack() as stack:
        dbt = dbt or stack.enter_context(open_worker(settings, database_url))
        target = configure_prefect(settings, prefect_log_level, wait=False)
        # After configure_prefect: Prefect reads its settings when first imported. Before the
        # wait: the import (over a second) overlaps the server's start-up when it is starting.
        from wearable_pipeline.orchestration import flow

        wait_until_ready(settings, target)
        return _run_flow(flow, settings, database_url, dbt, options)


def _run_flow(
    flow: ModuleType, settings: Settings, database_url: str, dbt: DbtWorker, options: RunOptions
) -> PipelineOutcome:
    run_id = uuid.uuid4()
    summary: dict[str, Any] = {}
    failure: BaseException | None = None
    with flow.flow_environment(settings, database_url, dbt), _heartbeats_off_unless_asked():
        try:
            summary = flow.wearable_pipeline(run_id=str(run_id), **options.as_json())
        except (flow.DataTestsFailed, flow.FilesRejected):
            pass  # recorded by the flow, reported from the record
        except Exception as exc:
            log.exception("pipeline run failed")
            failure = exc
    try:
        run = get_run(database_url, run_id)
    except DatabaseUnavailableError as exc:  # e.g. the database went away during the run
        raise PipelineNotStarted(f"the pipeline run could not be read back: {exc}") from exc
    if run is None:
        raise PipelineNotStarted(f"the pipeline run did not start: {failure}") from failure
    return PipelineOutcome(run, summary, flow_run_url(run.flow_run_id))


@contextmanager
def _heartbeats_off_unless_asked() -> Iterator[None]:
    """No flow-run heartbeats by default, for runs in this process.

    Heartbeats exist for Prefect's zombie-flow automation (docs: "Detect zombie flows"), which
    nothing here sets up. Prefect 3 emits them by default from a thread that the engine joins
    at the end of every run, and that thread sleeps in 1-s steps: up to a second added to
    every run, which starts in about three. Only the default changes: a user who set
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY for that automation keeps their heartbeats.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(set_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def flow_run_url(flow_run_id: uuid.UUID | None) -> str | None:
    """The flow run's page in the Prefect UI (None without a flow run)."""
    if flow_run_id is None:
        return None
    from prefect.utilities.urls import url_for

    return url_for("flow-run", obj_id=flow_run_id)
