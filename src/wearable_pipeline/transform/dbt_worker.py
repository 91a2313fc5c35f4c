"""A dbt worker process: dbt imported and the project parsed once, ahead of the run's dbt steps.

A pipeline run calls dbt three times (seed, run, test). In one process each call would pay
dbt's start-up again — reading the partial-parse state, writing its JSON artefacts — and the
first would also pay importing dbt, seconds of CPU in all. The worker starts when the run
starts, so that importing dbt and parsing the project happen on the second core while the run
imports Prefect, creates its flow run, migrates and ingests. It keeps the parsed manifest and
passes it to every invocation (`dbtRunner(manifest=…)`, dbt's documented way of reusing a
manifest between programmatic invocations), so seed, run and test each start in well under a
second.

One worker serves one pipeline run: the manifest is parsed when the run starts, so edits to
the dbt project made while a run goes on are picked up by the next run (partial parsing keeps
that parse quick). The worker ignores SIGINT: Ctrl-C in a terminal reaches the whole process
group, and the parent decides (`wearable watch` finishes the current run; `wearable run`
stops, closing the worker).

The worker is a `multiprocessing` process (spawn: a fresh interpreter, nothing of the
parent's state) talking over a `Pipe`: first the worker sends a `ParseOutcome` once the
project is parsed; then each dbt argument list from the parent is answered with a
`DbtResult`, until the parent sends None or closes its end.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import sys
import time
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


class DbtWorker:
    """The parent's handle on one worker process. Use as a context manager, or `close()`."""

    def __init__(
        self, settings: Settings, database_url: str, *, target_path: Path | None = None
    ) -> None:
        ours, theirs = multiprocessing.Pipe()
        self._conn = ours
        self._parse: ParseOutcome | None = None
        self._busy = False  # a dbt command sent, its result not yet received
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve,
            args=(theirs, settings, database_url, target_path, _has_fileno(sys.stderr)),
            name="dbt-worker",
            daemon=True,
        )
        self._process.start()
        theirs.close()

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
        self._parse = self._answer()
        if not self._parse.success:
            log.warning("dbt parse failed (the dbt step will say why): %s", self._parse.error)
        return time.perf_counter() - started

    def run(self, args: list[str]) -> DbtResult:
        """One dbt invocation in the worker, on the manifest it parsed."""
        self.wait_ready()
        self._busy = True
        try:
            self._conn.send(list(args))
        except OSError as exc:
            raise DbtWorkerError(f"the dbt worker process has stopped: {exc}") from exc
        result = self._answer()
        self._busy = False
        assert isinstance(result, DbtResult)
        return result

    def _answer(self) -> Any:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            code = self._process.exitcode
            raise DbtWorkerError(
                f"the dbt worker process stopped (exit status {code}) before answering"
            ) from exc

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: at once when it is still busy (parsing, or a dbt command the
        caller gave up on, e.g. on Ctrl-C), else by asking it to exit."""
        idle = self._parse is not None and not self._busy
        if idle and self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
        self._conn.close()
        if not idle:
            self._process.terminate()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False  # replaced (a test's capture): the worker keeps this process's stdout
    return True


def _serve(
    conn: Connection,
    settings: Settings,
    database_url: str,
    target_path: Path | None,
    stdout_to_stderr: bool,
) -> None:
    """The worker's side: parse, say so, then run what the parent asks until told to stop."""
    # Ctrl-C is the parent's to act on (see the module docstring)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if stdout_to_stderr:
        os.dup2(2, 1)  # dbt prints its errors: on stderr, so `wearable run --json` stays JSON
    from wearable_pipeline.config import disable_telemetry
    from wearable_pipeline.transform.dbt import parse_project, run_dbt

    disable_telemetry()
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
