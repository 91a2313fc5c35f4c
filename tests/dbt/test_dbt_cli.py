"""`wearable dbt …` passes arguments through and mirrors dbt's exit status; the dbt project
also works the plain way (`cd dbt && dbt …` after `eval "$(wearable db env)"`); and the
result object the flow relies on counts the right things."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearable_pipeline.cli import app
from wearable_pipeline.transform.dbt import DbtResult, NodeResult

pytestmark = pytest.mark.slow


def test_wearable_dbt_debug_connects_with_the_resolved_database(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["dbt", "debug"])
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.output


def test_wearable_dbt_mirrors_a_dbt_usage_error(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["dbt", "no-such-command"])
    assert result.exit_code == 2


def test_plain_dbt_in_the_project_folder_after_db_env(
    cli_env: dict[str, str], project_root: Path
) -> None:
    """What the README documents: `eval "$(wearable db env)"; cd dbt; dbt debug`.

    dbt finds dbt/profiles.yml in the working directory; no ~/.dbt involved.
    """
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEARABLE_DB_", "PG"))}
    env.pop("DBT_PROFILES_DIR", None)
    env["HOME"] = str(Path(cli_env["WEARABLE_HOME"]).parent)  # an empty home: no ~/.dbt
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    completed = subprocess.run(
        ["bash", "-c", 'eval "$(wearable db env)" && cd dbt && dbt --no-use-colors debug'],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"Using profiles dir at {project_root / 'dbt'}" in completed.stdout
    assert "All checks passed" in completed.stdout


def test_result_counts() -> None:
    nodes = (
        NodeResult("seed.w.s", "s", "seed", "success"),
        NodeResult("model.w.a", "a", "model", "success"),
        NodeResult("model.w.b", "b", "model", "skipped"),
        NodeResult("test.w.t1", "t1", "test", "pass"),
        NodeResult("test.w.t2", "t2", "test", "fail", failures=3),
        NodeResult("test.w.t3", "t3", "test", "warn", failures=1),
        NodeResult("unit_test.w.u", "u", "unit_test", "pass"),
        NodeResult("unit_test.w.v", "v", "unit_test", "error"),
    )
    result = DbtResult(args=("build",), success=False, nodes=nodes)
    assert result.models_built == 1
    assert result.seeds_loaded == 1
    assert result.tests_passed == 2
    assert result.tests_warned == 1
    assert result.tests_failed == 2
    assert result.failed_tests == ["t2", "v"]
    assert result.skipped == ["b"]
    assert result.exit_code == 1
    assert result.error is not None and "t2" in result.error
    assert "failing: t2, v" in result.summary()


def test_result_of_a_dbt_that_could_not_run() -> None:
    result = DbtResult(args=("run",), success=False, exception="DbtProjectError: no profile")
    assert result.exit_code == 2
    assert result.error == "DbtProjectError: no profile"
    assert DbtResult(args=("run",), success=True).exit_code == 0
