"""`make demo` on a fresh state folder, twice: the newcomer's first command.

In a file of its own: it is the suite's longest test (two whole demos), and xdist gives a
worker whole files, so on its own it runs beside the other pipeline tests, not after them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wearable_pipeline.orchestration import prefect_server as resident
from wearable_pipeline.transform import resident_dbt


@pytest.mark.slow
def test_make_demo_twice_on_a_fresh_embedded_database(tmp_path: Path, project_root: Path) -> None:
    """The newcomer path: `make demo` on an empty state folder, then again (nothing twice).

    Its own embedded database and resident Prefect server, both started by the first demo,
    reused by the second, and stopped by `wearable stop`.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "WEARABLE_DATABASE_URL", "PREFECT_API_URL", "PREFECT_HOME"}
    }
    env |= {
        "WEARABLE_HOME": str(tmp_path / "home"),
        "WEARABLE_DATA_DIR": str(tmp_path / "data"),
        # the dbt worker stays between the demos and until `wearable stop`, as for a user (the
        # suite's 20 s would let it exit on its own while the second demo generates data)
        "WEARABLE_DBT_WORKER_IDLE_TIMEOUT": "600",
    }
    try:
        first = subprocess.run(
            ["make", "demo"], cwd=project_root, env=env, capture_output=True, text=True, timeout=900
        )
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
        assert "Demo summary" in first.stdout
        assert "succeeded" in first.stdout
        assert "daily_user_summary" in first.stdout
        assert "Prefect UI: http://127.0.0.1:" in first.stdout
        assert "report: " in first.stdout
        assert list((tmp_path / "home" / "reports").glob("report-*.html"))
        server = resident.running(tmp_path / "home")
        assert server is not None
        dbt_worker = resident_dbt.running(tmp_path / "home")
        assert dbt_worker is not None
        second = subprocess.run(
            ["make", "demo"], cwd=project_root, env=env, capture_output=True, text=True, timeout=900
        )
        assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
        assert resident.running(tmp_path / "home") == server  # reused, not restarted
        assert resident_dbt.running(tmp_path / "home") == dbt_worker
    finally:
        stopped = subprocess.run(
            [sys.executable, "-m", "wearable_pipeline.cli", "stop"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert "Prefect server stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    assert "embedded PostgreSQL stopped" in stopped.stdout
    assert "resident dbt worker stopped" in stopped.stdout  # the demo's runs started it
    # Second run: the same files and events, so nothing new lands.
    assert _summary_value(second.stdout, "CSV rows loaded") == "0"
    assert _summary_value(second.stdout, "events accepted") == "0"
    assert int(_summary_value(second.stdout, "events deduped")) > 0


def _summary_value(output: str, label: str) -> str:
    """The 'this run' column of a row of the demo's summary table."""
    for line in output.splitlines():
        if label in line:
            cells = [cell.strip() for cell in line.strip("│┃ ").split("│")]
            return cells[1]
    raise AssertionError(f"{label!r} not in the demo output:\n{output[-3000:]}")
