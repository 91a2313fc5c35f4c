"""The Prefect flow `wearable_pipeline`: migrate → ingest → (lake export) → dbt seed → dbt run
→ dbt test. The lake export runs when a lake is configured (WEARABLE_LAKE_DIR, docs/scaling.md).

Each step is a Prefect task over a library function. Steps that talk to the database retry
when the database is unreachable (a retry can help); a failing dbt test never retries (the data
will not change between attempts) and fails the flow. The flow records itself in
`ops.pipeline_runs` and every step writes its duration and counts there as soon as it
finishes, whoever started the run: `wearable run`, `wearable watch`, or Prefect's runner for a
schedule (`wearable schedule`) or the UI's "Run" button, which start the flow in a process of
their own — for those processes the flow's migrate step is where migrations are applied.

The dbt steps run in a dbt worker process (transform/dbt_worker.py) that the run starts first,
so that importing dbt and parsing the project overlap the run's other work and seed, run and
test share one parse. The seed step first waits for that worker if it is not ready yet; the
wait is recorded as the step `dbt_startup`.

Import this module only after `orchestration.prefect_env.configure_prefect()` has set Prefect's
environment (server, home folder, telemetry off): Prefect reads its settings at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wearable_pipeline.config import Settings, get_settings
from wearable_pipeline.db.connection import (
    DatabaseUnavailableError,
    connect,
    resolve_database_url,
)
from wearable_pipeline.db.migrate import migrate_once
from wearable_pipeline.orchestration.run_records import RunRecorder
from wearable_pipeline.transform.dbt_worker import DbtWorker, open_worker

if TYPE_CHECKING:
    from wearable_pipeline.transform.dbt import DbtResult

T = TypeVar("T")


@dataclass(frozen=True)
class FlowEnvironment:
    """What the steps need besides their parameters: the settings and the resolved database.

    Kept out of the flow's parameters on purpose: Prefect stores parameters in its own
    database, and a DATABASE_URL may carry a password.
    """

    settings: Settings
    database_url: str
    dbt: DbtWorker | None = None  # where the dbt steps run (None: in this process)


_ENVIRONMENT: ContextVar[FlowEnvironment] = ContextVar("wearable_flow_environment")


@contextmanager
def flow_environment(
    settings: Settings, database_url: str, dbt: DbtWorker | None = None
) -> Iterator[None]:
    """Run flows in this block with these settings (a caller's own, e.g. a test's) and, when
    given, this dbt worker (else each flow run starts its own)."""
    token = _ENVIRONMENT.set(FlowEnvironment(settings, database_url, dbt))
    try:
        yield
    finally:
        _ENVIRONMENT.reset(token)


def _environment() -> FlowEnvironment:
    """The caller's environment, else this process's settings (a run Prefect started)."""
    try:
        return _ENVIRONMENT.get()
    except LookupError:
        settings = get_settings()
        return FlowEnvironment(settings, resolve_database_url(settings))


class DbtStepFailed(RuntimeError):
    """A dbt command failed for a reason other than failing data tests."""


class FilesRejected(RuntimeError):
    """The ingest step rejected or failed on some files (the rest of the run still ran)."""

    def __init__(self, rejected_files: list[str]) -> None:
        self.rejected_files = rejected_files
        super().__init__(
            f"{len(rejected_files)} file(s) rejected or failed in ingest: "
            + "; ".join(rejected_files)
        )


class DataTestsFailed(RuntimeError):
    """`dbt test` ran and some tests failed; `failed_tests` names them."""

    def __init__(self, failed_tests: list[str]) -> None:
        self.failed_tests = failed_tests
        super().__init__(f"{len(failed_tests)} dbt test(s) failed: {', '.join(failed_tests)}")


def _retry_when_database_unavailable(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only errors a retry can fix: the database being unreachable."""
    try:
        state.result()
    except (DatabaseUnavailableError, psycopg.OperationalError):
        return True
    except Exception:
        return False
    return False


def _timed(recorder: RunRecorder, step: str, work: Callable[[], T], **counts_of: Any) -> T:
    started = time.perf_counter()
    result = work()
    counts = {column: int(getter(result)) for column, getter in counts_of.items()}
    recorder.step_finished(step, time.perf_counter() - started, **counts)
    return result


_DB_TASK = {
    "retries": 3,
    "retry_delay_seconds": [1, 2, 4],
    "retry_condition_fn": _retry_when_database_unavailable,
    "cache_policy": NO_CACHE,
}


@task(name="migrate", **_DB_TASK)
def migrate_task() -> list[str]:
    """Migrations, once per process: real work only when Prefect started this process."""
    applied = migrate_once(_environment().database_url)
    get_run_logger().info("migrations applied: %s", ", ".join(applied) or "none (up to date)")
    return applied


@task(name="ingest", **_DB_TASK)
def ingest_task(run_id: str, paths: list[str], drop_dir: str | None = None) -> dict[str, Any]:
    from wearable_pipeline.ingest.loader import ingest_paths
    from wearable_pipeline.ingest.report import PROBLEM_STATUSES

    logger = get_run_logger()
    env = _environment()
    database_url = env.database_url
    recorder = RunRecorder(database_url, run_id)
    report = _timed(
        recorder,
        "ingest",
        lambda: ingest_paths(
            database_url,
            [Path(p) for p in paths],
            drop_dir=Path(drop_dir or env.settings.data_dir),
        ),
        files_loaded=lambda r: r.files_loaded,
        rows_ingested=lambda r: r.rows_loaded,
    )
    for file in report.files:
        logger.info(
            "%s: %s → %s, %s rows loaded, %s rejected%s",
            file.path,
            file.source_format or "unrecognised",
            file.target_table or "-",
            file.rows_loaded,
            file.rows_rejected,
            f" [{file.status}: {file.error}]" if file.error else f" [{file.status}]",
        )
    rejected = [
        f"{file.path}: {file.error}" for file in report.files if file.status in PROBLEM_STATUSES
    ]
    if rejected:
        recorder.rejected_files(rejected)
        logger.warning("%d file(s) not loaded; see ops.file_loads", len(rejected))
    return {
        "files": len(report.files),
        "files_loaded": report.files_loaded,
        "rows_loaded": report.rows_loaded,
        "rejected_files": rejected,
    }


@task(name="lake export", **_DB_TASK)
def lake_export_task(run_id: str) -> dict[str, Any]:
    """New raw loads and events to the Parquet lake, once each (lake/export.py)."""
    from wearable_pipeline.lake.export import export_to_lake

    env = _environment()
    lake = env.settings.lake_dir
    assert lake, "the lake export step runs only when a lake is configured"
    recorder = RunRecorder(env.database_url, run_id)
    report = _timed(recorder, "lake_export", lambda: export_to_lake(env.database_url, lake))
    get_run_logger().info(
        "lake %s: %d load(s), %d event(s), %d rows in %.1f s",
        report.lake,
        len(report.loads),
        report.events.rows if report.events else 0,
        report.rows,
        report.seconds,
    )
    return {"loads": len(report.loads), "rows": report.rows, "bytes": report.bytes}


def _run_dbt_logged(
    command: str,
    database_url: str,
    select: list[str] | None = None,
    extra: list[str] | None = None,
) -> Any:
    """Run one dbt command and log every node's result to the flow run's log.

    dbt's own console output is silenced (`--quiet`): the per-node lines below carry the same
    information into Prefect's logs, and failures are logged with dbt's message. dbt's JSON
    artefacts are not written (`--no-write-json`, seconds of a run): the run's outcome is in
    `ops.pipeline_runs` and Prefect, and `wearable dbt …` writes them as dbt always does.
    """
    logger = get_run_logger()
    # dbt reports an unreachable database as a failed node; check first so that the task
    # fails with DatabaseUnavailableError, the one failure its retries are meant for.
    connect(database_url, connect_timeout=10).close()
    args = [
        "--quiet",
        "--no-write-json",
        command,
        *(["--select", *select] if select else []),
        *(extra or []),
    ]
    result = _invoke_dbt(args, database_url)
    for node in result.nodes:
        log = logger.error if node.failed else logger.info
        log(
            "dbt %s: %s %s %s (%.2fs)%s",
            command,
            node.resource_type,
            node.name,
            node.status,
            node.execution_time or 0.0,
            f" — {node.message}" if node.failed and node.message else "",
        )
    if result.exception:
        logger.error("dbt %s raised %s", command, result.exception)
    return result


def _invoke_dbt(args: list[str], database_url: str) -> DbtResult:
    """In the flow's dbt worker, or in this process when there is none."""
    env = _environment()
    if env.dbt is not None:
        return env.dbt.run(args)
    from wearable_pipeline.transform.dbt import run_dbt

    return run_dbt(args, env.settings, database_url=database_url)


@task(name="dbt seed", **_DB_TASK)
def dbt_seed_task(run_id: str) -> int:
    env = _environment()
    database_url = env.database_url
    recorder = RunRecorder(database_url, run_id)
    if env.dbt is not None:
        # dbt's start-up not yet overlapped by the steps before: fixed cost, not seeding
        recorder.step_finished("dbt_startup", env.dbt.wait_ready())
    result = _timed(recorder, "dbt_seed", lambda: _run_dbt_logged("seed", database_url))
    if not result.success:
        raise DbtStepFailed(f"dbt seed failed: {result.error or 'see the log above'}")
    return len(result.nodes)


@task(name="dbt run", **_DB_TASK)
def dbt_run_task(run_id: str, select: list[str]) -> int:
    database_url = _environment().database_url
    recorder = RunRecorder(database_url, run_id)
    result = _timed(
        recorder,
        "dbt_run",
        lambda: _run_dbt_logged("run", database_url, select),
        models_built=lambda r: r.models_built,
    )
    if not result.success:
        raise DbtStepFailed(f"dbt run failed: {result.error or 'see the log above'}")
    return result.models_built


@task(name="dbt test", retries=0, cache_policy=NO_CACHE)
def dbt_test_task(run_id: str, select: list[str], unit_tests: bool = False) -> dict[str, Any]:
    """Data tests judge the data; dbt unit tests (static inputs, they judge the SQL) run only
    when asked — dbt's advice for production runs; `make test` runs them on every change."""
    database_url = _environment().database_url
    recorder = RunRecorder(database_url, run_id)
    extra = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    result = _timed(
        recorder, "dbt_test", lambda: _run_dbt_logged("test", database_url, select, extra)
    )
    recorder.tests_outcome(result.tests_passed, result.tests_failed, result.failed_tests)
    if result.failed_tests:
        raise DataTestsFailed(result.failed_tests)
    if not result.success:
        raise DbtStepFailed(f"dbt test failed: {result.error or 'see the log above'}")
    unit = sum(node.resource_type == "unit_test" for node in result.nodes)
    return {"passed": result.tests_passed, "failed": result.tests_failed, "unit_tests": unit}


@flow(name="wearable_pipeline", log_prints=False, validate_parameters=False)
def wearable_pipeline(
    paths: list[str] | None = None,
    skip_ingest: bool = False,
    skip_tests: bool = False,
    select: list[str] | None = None,
    unit_tests: bool = False,
    run_id: str | None = None,
    drop_dir: str | None = None,
) -> dict[str, Any]:
    """The whole pipeline as one Prefect flow run, recorded in `ops.pipeline_runs`.

    `paths`: files and folders to ingest (default: the data folder, when it exists).
    `drop_dir`: the folder whose sub-folders name the users of single-user exports (default:
    the data folder; `wearable watch` gives the folder it watches).
    `run_id`: the `ops.pipeline_runs` id to record under (a new one when None).
    Raises when a step fails, after recording why.
    """
    env = _environment()
    options = {
        "paths": list(paths or []),
        "skip_ingest": skip_ingest,
        "skip_tests": skip_tests,
        "select": list(select or []),
        "unit_tests": unit_tests,
        "drop_dir": drop_dir,
    }
    with ExitStack() as stack:
        dbt = env.dbt or stack.enter_context(open_worker(env.settings, env.database_url))
        stack.enter_context(flow_environment(env.settings, env.database_url, dbt))
        started = time.perf_counter()
        migrations = migrate_task()  # the run can only be recorded in a migrated database
        recorder = RunRecorder.start(
            env.database_url, options, run_id=run_id, flow_run_id=flow_run.get_id()
        )
        recorder.step_finished("migrate", time.perf_counter() - started)
        try:
            summary = _steps(str(recorder.run_id), env.settings, options)
        except (DataTestsFailed, FilesRejected) as exc:
            recorder.finish("failed", str(exc))
            raise
        except Exception as exc:
            recorder.finish("failed", f"{type(exc).__name__}: {exc}")
            raise
        except BaseException as exc:  # Ctrl-C, or SIGTERM (which Prefect turns into one)
            recorder.finish("failed", f"interrupted ({type(exc).__name__})")
            raise
        recorder.finish("succeeded")
    return {"run_id": str(recorder.run_id), "migrations": migrations, **summary}


def _steps(run_id: str, settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if not options["skip_ingest"]:
        # A missing data folder means "no drops yet", not a failed load.
        default_paths = [str(settings.data_dir)] if Path(settings.data_dir).is_dir() else []
        summary["ingest"] = ingest_task(
            run_id, options["paths"] or default_paths, options["drop_dir"]
        )
    if settings.lake_dir:
        summary["lake_export"] = lake_export_task(run_id)
    summary["seeds"] = dbt_seed_task(run_id)
    summary["models_built"] = dbt_run_task(run_id, options["select"])
    if not options["skip_tests"]:
        summary["tests"] = dbt_test_task(run_id, options["select"], options["unit_tests"])
    # Rejected files do not stop the models being built from everything else, but the run
    # must not report success while a drop was refused (as `wearable ingest` exits 1).
    rejected = summary.get("ingest", {}).get("rejected_files")
    if rejected:
        raise FilesRejected(rejected)
    return summary
