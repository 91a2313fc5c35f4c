"""A dbt worker process: dbt imported and the project parsed once, ahead of the run's dbt steps.

A pipeline run calls dbt three times (seed, run, test). In one process each call would pay
dbt's start-up again — reading the partial-parse state, writing its JSON artefacts — and the
first would also pay importing dbt, seconds of CPU in all. The worker starts when the run
starts, so that importing dbt and parsing the project happen on the second core while the run
imports Prefect, creates its flow run, migrates and ingests. It keeps the parsed manifest and
passes it to every invocation (`dbtRunner(manifest=…)`, dbt's documented way of reusing a
manifest between programmatic invocations), so seed, run and test each start in well under a
second.

One worker session serves one pipeline run: the manifest is parsed when the run starts, so
edits to the dbt project made while a run goes on are picked up by the next run (partial
parsing keeps that parse quick). The worker ignores SIGINT: Ctrl-C in a terminal reaches the
whole process group, and the parent decides (`wearable watch` finishes the current run;
`wearable run` stops, closing the session).

Where the session runs: by default in the resident dbt worker (resident_dbt.py), which has
dbt imported and warm before the run starts, so the run waits for no import at all; with
`WEARABLE_DBT_WORKER_IDLE_TIMEOUT=0`, or where it cannot run, in a `multiprocessing` process
of the run's own (spawn: a fresh interpreter, nothing of the parent's state).

The protocol is the same for both: the worker sends `SessionStarted` (its pid), then a
`ParseOutcome` once the project is parsed; then each dbt argument list from the parent is
answered with a `DbtResult`, until the parent sends None or closes its end.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from wearable_pipeline.config import Settings
from wearable_pipeline.transform.dbt import DbtResult

log = logging.getLogger(__name__)


class DbtWorkerError(RuntimeError):
    """The dbt worker process stopped before answering."""


@dataclass(frozen=True)
class ParseOutcome:
    """How the worker's parse went: dbt's verdict and, when it failed, why."""

    success: bool
    error: str | None
    seconds: float


@dataclass(frozen=True)
class SessionStarted:
    """The worker's first message: the process that serves this client (to stop it)."""

    pid: int


class DbtWorker:
    """The parent's handle on one dbt session. Use as a context manager, or `close()`.

    `open_worker` gives a session of the resident worker (resident_dbt.py) when it can, else
    a worker process of this run's own (`DbtWorker.spawn`); both speak the same protocol.
    """

    def __init__(
        self,
        conn: Connection | None,
        process: multiprocessing.process.BaseProcess | None = None,
        connecting: threading.Thread | None = None,
    ) -> None:
        self._conn = conn
        self._process = process  # a worker of our own (None: a resident worker's session)
        self._connecting = connecting  # the thread connecting to the resident worker
        self._connect_error: BaseException | None = None
        # what to start instead when the resident worker cannot be reached
        self._fallback: Callable[[], DbtWorker] | None = None
        self._session_pid: int | None = None
        self._parse: ParseOutcome | None = None
        self._busy = False  # a dbt command sent, its result not yet received

    @classmethod
    def spawn(
        cls, settings: Settings, database_url: str, *, target_path: Path | None = None
    ) -> DbtWorker:
        """A worker process for this run only, started now (spawn: a fresh interpreter)."""
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=serve,
            args=(theirs, settings, database_url, target_path, _has_fileno(sys.stderr)),
            name="dbt-worker",
            daemon=True,
        )
        process.start()
        theirs.close()
        return cls(ours, process)

    @classmethod
    def resident(
        cls, settings: Settings, database_url: str, *, target_path: Path | None = None
    ) -> DbtWorker:
        """A session of the resident worker (started if it is not running). Returns at once:
        the connection is made in a thread, since a worker that is just starting accepts only
        once it has imported dbt, and the run has its own start-up to do meanwhile."""
        from wearable_pipeline.transform import resident_dbt

        resident_dbt.start(
            settings.home,
            settings.dbt_worker_idle_timeout,
            warm_up=resident_dbt.WarmUp.of(database_url, target_path),
        )
        request = resident_dbt.SessionRequest(
            settings=settings,
            database_url=database_url,
            target_path=target_path,
            environ=dict(os.environ),
            cwd=os.getcwd(),
        )
        worker = cls(None)
        worker._fallback = lambda: cls.spawn(settings, database_url, target_path=target_path)

        def connect() -> None:
            try:
                conn = resident_dbt.connect(settings.home)
                conn.send(request)
                worker._conn = conn
            except BaseException as exc:  # handed to the caller in wait_ready
                worker._connect_error = exc

        worker._connecting = threading.Thread(target=connect, name="dbt-worker-connect")
        worker._connecting.daemon = True
        worker._connecting.start()
        return worker

    def __enter__(self) -> DbtWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_ready(self) -> float:
        """Wait until dbt is imported and the project parsed; return the seconds waited.

        A failed parse is not raised here: the dbt step that follows parses again itself and
        reports dbt's error as its own failure.
        """
        if self._parse is not None:
            return 0.0
        started = time.perf_counter()
        self._wait_connected()
        if self._session_pid is None:
            started_message = self._answer()
            assert isinstance(started_message, SessionStarted)
            self._session_pid = started_message.pid
        self._parse = self._answer()
        if not self._parse.success:
            log.warning("dbt parse failed (the dbt step will say why): %s", self._parse.error)
        return time.perf_counter() - started

    def run(self, args: list[str]) -> DbtResult:
        """One dbt invocation in the worker, on the manifest it parsed."""
        self.wait_ready()
        assert self._conn is not None
        self._busy = True
        try:
            self._conn.send(list(args))
        except OSError as exc:
            raise DbtWorkerError(f"the dbt worker process has stopped: {exc}") from exc
        result = self._answer()
        self._busy = False
        assert isinstance(result, DbtResult)
        return result

    def _wait_connected(self) -> None:
        if self._connecting is not None:
            self._connecting.join()
            self._connecting = None
        if self._connect_error is None:
            return
        if self._fallback is None:
            raise DbtWorkerError(
                f"could not reach the resident dbt worker: {self._connect_error}"
            ) from self._connect_error
        log.warning(
            "resident dbt worker unreachable, starting one for this run: %s", self._connect_error
        )
        own = self._fallback()
        self._conn, self._process = own._conn, own._process
        self._connect_error = self._fallback = None

    def _answer(self) -> Any:
        assert self._conn is not None
        try:
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            code = self._process.exitcode if self._process is not None else None
            raise DbtWorkerError(
                f"the dbt worker process stopped (exit status {code}) before answering"
            ) from exc

    def close(self, timeout: float = 5.0) -> None:
        """End the session: at once when the worker is still busy (parsing, or a dbt command
        the caller gave up on, e.g. on Ctrl-C), else by asking it to finish."""
        if self._connecting is not None:
            self._connecting.join(timeout)
        idle = self._parse is not None and not self._busy
        if self._conn is not None:
            if idle:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
            self._conn.close()
        if self._process is not None:
            self._stop_own_process(idle, timeout)
        elif not idle and self._session_pid is not None:
            # a resident worker's session: the worker itself stays for the next run
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._session_pid, signal.SIGTERM)

    def _stop_own_process(self, idle: bool, timeout: float) -> None:
        assert self._process is not None
        if not idle:
            self._process.terminate()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def open_worker(
    settings: Settings, database_url: str, *, target_path: Path | None = None
) -> DbtWorker:
    """The dbt worker for one pipeline run: a session of the resident worker, unless it is
    turned off (WEARABLE_DBT_WORKER_IDLE_TIMEOUT=0) or cannot run here; then a process of the
    run's own."""
    from wearable_pipeline.transform import resident_dbt

    if settings.dbt_worker_idle_timeout > 0 and resident_dbt.usable(settings.home):
        try:
            return DbtWorker.resident(settings, database_url, target_path=target_path)
        except (OSError, resident_dbt.ResidentWorkerError) as exc:
            log.warning("resident dbt worker unavailable, starting one for this run: %s", exc)
    return DbtWorker.spawn(settings, database_url, target_path=target_path)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False  # replaced (a test's capture): the worker keeps this process's stdout
    return True


def serve(
    conn: Connection,
    settings: Settings,
    database_url: str,
    target_path: Path | None,
    stdout_to_stderr: bool,
) -> None:
    """The worker's side: say who serves, parse and say how it went, then run what the
    parent asks until told to stop."""
    # Ctrl-C is the parent's to act on (see the module docstring)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if stdout_to_stderr:
        os.dup2(2, 1)  # dbt prints its errors: on stderr, so `wearable run --json` stays JSON
    from wearable_pipeline.config import disable_telemetry
    from wearable_pipeline.transform.dbt import parse_project, run_dbt

    disable_telemetry()
    conn.send(SessionStarted(os.getpid()))
    started = time.perf_counter()
    manifest, parsed = parse_project(settings, database_url=database_url, target_path=target_path)
    conn.send(ParseOutcome(parsed.success, parsed.error, time.perf_counter() - started))
    while True:
        try:
            args = conn.recv()
        except EOFError:
            break
        if args is None:
            break
        result = run_dbt(
            args, settings, database_url=database_url, target_path=target_path, manifest=manifest
        )
        try:
            conn.send(result)
        except OSError:
            break  # the parent went away
    conn.close()
    # The interpreter's final garbage collection would walk everything dbt built (the
    # parent waits for this exit); the OS reclaims the memory anyway.
    gc.freeze()
