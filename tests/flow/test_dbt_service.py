"""The resident dbt worker: real processes, a real dbt project, a real database.

It must serve run after run from one warm process (each run a session of its own), replace
itself when its code changes, stop with `wearable stop`, and not outlive its idle timeout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from wearable_pipeline.config import Settings
from wearable_pipeline.orchestration.shutdown import stop_everything
from wearable_pipeline.transform import resident_dbt
from wearable_pipeline.transform.dbt_worker import open_worker

LIST_ONE_MODEL = ["--quiet", "ls", "--select", "stg_sleep"]


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    yield home
    resident_dbt.stop(home)


def _settings(home: Path, database_url: str, idle_timeout: float = 300) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        home=home,
        database_url=database_url,
        dbt_worker_idle_timeout=idle_timeout,
    )


def _session(settings: Settings, database_url: str, target: Path) -> tuple[int, float]:
    """Run one dbt command in a session; return the session's pid and its parse time."""
    with open_worker(settings, database_url, target_path=target) as worker:
        worker.wait_ready()
        result = worker.run(LIST_ONE_MODEL)
        assert result.success, result.error
        assert worker._session_pid is not None
        assert worker._parse is not None
        return worker._session_pid, worker._parse.seconds


def _wait_gone(pid: int, timeout: float) -> bool:
    try:
        psutil.Process(pid).wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_one_warm_worker_serves_run_after_run_until_its_code_changes_or_it_is_stopped(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    """One test for the worker's life, since starting a worker costs seconds."""
    settings = _settings(home, database_url)
    first_session, _ = _session(settings, database_url, tmp_path / "target")
    worker = resident_dbt.running(home)
    assert worker is not None, "the worker stays after the run"
    # The worker's warm-up parsed the whole project as the first run would (its database, its
    # target folder), so that run's own parse found the state and re-parsed no file.
    perf = json.loads((tmp_path / "target" / "perf_info.json").read_text())
    assert perf["is_partial_parse_enabled"] and perf["parsed_path_count"] == 0, perf

    second_session, second_parse = _session(settings, database_url, tmp_path / "target")

    assert resident_dbt.running(home) == worker, "the second run reused the same worker"
    assert len({first_session, second_session, worker.pid}) == 3
    assert _wait_gone(first_session, timeout=10), "a session ends with its run"
    # a warm worker's session parses in a fraction of a fresh process's ~4 s (a generous
    # bound for a busy machine; bench/pipeline.py measures it)
    assert second_parse < 10

    # As after an upgrade of dbt or an edit of the transform modules:
    state = resident_dbt.worker_folder(home) / "worker.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "code": "older"}))
    _session(settings, database_url, tmp_path / "target")
    replaced = resident_dbt.running(home)
    assert replaced is not None and replaced.pid != worker.pid
    assert replaced.code == resident_dbt.code_version()
    assert _wait_gone(worker.pid, timeout=10), "the worker running other code was stopped"

    lines = stop_everything(settings)

    assert "resident dbt worker stopped" in lines
    assert _wait_gone(replaced.pid, timeout=10)
    assert resident_dbt.running(home) is None


def test_a_run_that_cannot_reach_the_worker_starts_dbt_of_its_own(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(home, database_url)
    _session(settings, database_url, tmp_path / "target")
    worker = resident_dbt.running(home)
    assert worker is not None
    # A key that no longer admits this client (as if another process replaced the worker's).
    (resident_dbt.worker_folder(home) / "authkey").write_bytes(b"not the worker's key")

    with open_worker(settings, database_url, target_path=tmp_path / "target") as dbt:
        result = dbt.run(LIST_ONE_MODEL)
        assert result.success, result.error
        # served by a dbt process of this run's own: a child of this process
        assert dbt._session_pid in {child.pid for child in psutil.Process().children()}

    assert resident_dbt.running(home) == worker, "the refused client did not stop the worker"
    assert '"event": "refused"' in resident_dbt.log_path(home).read_text()


def test_an_idle_worker_exits_on_its_own(home: Path, database_url: str, tmp_path: Path) -> None:
    settings = _settings(home, database_url, idle_timeout=1)
    _session(settings, database_url, tmp_path / "target")
    worker = resident_dbt.running(home)
    assert worker is not None

    assert _wait_gone(worker.pid, timeout=30), "still running 30 s after a 1 s idle timeout"
    log = resident_dbt.log_path(home).read_text()
    assert "no session for 1 s" in log


def test_without_a_resident_worker_each_run_starts_its_own(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(home, database_url, idle_timeout=0)

    _session(settings, database_url, tmp_path / "target")

    assert resident_dbt.running(home) is None
    assert not resident_dbt.worker_folder(home).exists()
