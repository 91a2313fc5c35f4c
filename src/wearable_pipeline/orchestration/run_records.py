"""Durable records of pipeline runs in `ops.pipeline_runs`.

Written step by step while the flow runs (not only at the end), so a run that dies half way
still shows which steps finished and how long they took.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from wearable_pipeline.db.connection import connect


@dataclass
class PipelineRun:
    """One row of `ops.pipeline_runs`."""

    run_id: uuid.UUID
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    flow_run_id: uuid.UUID | None = None
    options: dict[str, Any] = field(default_factory=dict)
    step_durations: dict[str, float] = field(default_factory=dict)
    files_loaded: int = 0
    rows_ingested: int = 0
    models_built: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    failed_tests: list[str] = field(default_factory=list)
    error: str | None = None
    files_rejected: int = 0
    rejected_files: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


_COLUMNS = (
    "run_id, status, started_at, finished_at, flow_run_id, options, step_durations,"
    " files_loaded, rows_ingested, models_built, tests_passed, tests_failed, failed_tests, error,"
    " files_rejected, rejected_files"
)


class RunRecorder:
    """Writes one pipeline run's progress to the database, each update in its own commit."""

    def __init__(self, database_url: str, run_id: uuid.UUID | str) -> None:
        self.database_url = database_url
        self.run_id = uuid.UUID(str(run_id))

    @classmethod
    def start(
        cls,
        database_url: str,
        options: dict[str, Any],
        *,
        run_id: uuid.UUID | str | None = None,
        flow_run_id: uuid.UUID | str | None = None,
    ) -> RunRecorder:
        """Insert a new run in status `running` and return its recorder.

        `run_id` lets the caller find the record afterwards (a new one when None);
        `flow_run_id` links it to Prefect's flow run.
        """
        recorder = cls(database_url, run_id or uuid.uuid4())
        with connect(database_url, autocommit=True) as conn:
            conn.execute(
                "insert into ops.pipeline_runs (run_id, status, options, flow_run_id)"
                " values (%s, 'running', %s, %s)",
                [recorder.run_id, Jsonb(options), flow_run_id],
            )
        return recorder

    def _update(self, assignments: sql.Composable, params: list[Any]) -> None:
        with connect(self.database_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("update ops.pipeline_runs set {} where run_id = %s").format(assignments),
                [*params, self.run_id],
            )

    def _set(self, **values: Any) -> None:
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(column)) for column in values
        )
        self._update(assignments, list(values.values()))

    def step_finished(self, step: str, seconds: float, **counts: int) -> None:
        """Record a step's duration and any counts it produced (rows_ingested=…, …)."""
        assignments: list[sql.Composable] = [
            sql.SQL("step_durations = step_durations || jsonb_build_object(%s::text, %s)")
        ]
        params: list[Any] = [step, round(seconds, 3)]
        for column, value in counts.items():
            assignments.append(sql.SQL("{0} = {0} + %s").format(sql.Identifier(column)))
            params.append(value)
        self._update(sql.SQL(", ").join(assignments), params)

    def tests_outcome(self, passed: int, failed: int, failed_tests: list[str]) -> None:
        self._set(tests_passed=passed, tests_failed=failed, failed_tests=failed_tests)

    def rejected_files(self, files: list[str]) -> None:
        """Files the ingest step rejected or failed on, each as `path: reason`."""
        self._set(files_rejected=len(files), rejected_files=files)

    def finish(self, status: str, error: str | None = None) -> PipelineRun:
        self._update(sql.SQL("status = %s, error = %s, finished_at = now()"), [status, error])
        run = get_run(self.database_url, self.run_id)
        assert run is not None
        return run


_SELECT = sql.SQL(_COLUMNS)


def _from_row(row: tuple[Any, ...]) -> PipelineRun:
    return PipelineRun(*row)


def get_run(database_url: str, run_id: uuid.UUID) -> PipelineRun | None:
    with connect(database_url) as conn:
        row = conn.execute(
            sql.SQL("select {} from ops.pipeline_runs where run_id = %s").format(_SELECT),
            [run_id],
        ).fetchone()
    return _from_row(row) if row else None


def recent_runs(conn: psycopg.Connection, limit: int = 10) -> list[PipelineRun]:
    """The latest runs, newest first."""
    rows = conn.execute(
        sql.SQL("select {} from ops.pipeline_runs order by started_at desc limit %s").format(
            _SELECT
        ),
        [limit],
    ).fetchall()
    return [_from_row(row) for row in rows]
