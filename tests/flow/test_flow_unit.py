"""Pure logic of the flow: which failures retry, and the run options' record."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from wearable_pipeline.db.connection import DatabaseUnavailableError
from wearable_pipeline.orchestration import flow
from wearable_pipeline.orchestration.runner import RunOptions


class _FailedState:
    """Stands in for a Prefect state: `result()` re-raises the task's exception."""

    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def result(self) -> None:
        raise self._exc


@pytest.mark.parametrize(
    ("exc", "retries"),
    [
        (DatabaseUnavailableError("cannot connect to postgresql://db"), True),
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (flow.DataTestsFailed(["range_stg_daily_activity_steps"]), False),
        (flow.DbtStepFailed("dbt run failed"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_an_unreachable_database_is_retried(exc: BaseException, retries: bool) -> None:
    assert flow._retry_when_database_unavailable(None, None, _FailedState(exc)) is retries


def test_database_steps_retry_and_dbt_test_never_does() -> None:
    for step in (flow.migrate_task, flow.ingest_task, flow.dbt_seed_task, flow.dbt_run_task):
        assert step.retries == 3, step.name
        assert step.retry_condition_fn is flow._retry_when_database_unavailable
    assert flow.dbt_test_task.retries == 0


def test_failures_name_what_failed() -> None:
    tests = flow.DataTestsFailed(["a_test", "b_test"])
    assert str(tests) == "2 dbt test(s) failed: a_test, b_test"
    files = flow.FilesRejected(["data/x.csv: missing required columns: Id"])
    assert "data/x.csv: missing required columns: Id" in str(files)


def test_run_options_are_recorded_as_json() -> None:
    options = RunOptions(paths=[Path("data/fitbit")], skip_tests=True, select=["stg_sleep"])
    assert options.as_json() == {
        "paths": ["data/fitbit"],
        "skip_ingest": False,
        "skip_tests": True,
        "select": ["stg_sleep"],
        "unit_tests": False,
        "drop_dir": None,  # the data folder's sub-folders name users
    }
    watched = RunOptions(paths=[Path("drop/alice/oura.csv")], drop_dir=Path("drop"))
    assert watched.as_json()["drop_dir"] == "drop"
