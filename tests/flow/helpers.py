"""Helpers for the orchestration tests that drive real `wearable` processes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg

FITBIT = Path(__file__).parents[1] / "fixtures" / "fitbit"
WEARABLE = [sys.executable, "-m", "wearable_pipeline.cli"]

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, poll: float = 0.5) -> T:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def finished_runs(database_url: str) -> list[tuple[Any, ...]]:
    """(run_id, status, flow_run_id, files_loaded, rows_ingested, options) of finished runs."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "select run_id, status, flow_run_id, files_loaded, rows_ingested, options"
            " from ops.pipeline_runs where finished_at is not null order by started_at"
        ).fetchall()


def copy_fixture(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(FITBIT / name, folder / name))


def stop_process(process: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    """SIGTERM, then the process's output; fails the test if it does not exit in time."""
    process.terminate()
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"did not stop on SIGTERM:\n{out[-2000:]}\n{err[-3000:]}") from None


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"
