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

Protocol (over a socket pair, length-prefixed pickles; both ends are this package):
parent → settings, database URL, target path; worker → `ParseOutcome` once the project is
parsed; then parent → dbt arguments, worker → `DbtResult`, until the parent sends None or
closes its end.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wearable_pipeline.config import Settings
from wearable_pipeline.transform.dbt import DbtResult

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!Q")


class DbtWorkerError(RuntimeError):
    """The dbt worker process stopped before answering."""


@dataclass(frozen=True)
class ParseOutcome:
    """How the worker's parse went: dbt's verdict and, when it failed, why."""

    success: bool
    error: str | None
    seconds: float


def _send(sock: socket.socket, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other end of the dbt worker's socket closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _receive(sock: socket.socket) -> Any:
    (size,) = _LENGTH.unpack(_receive_exactly(sock, _LENGTH.size))
    return pickle.loads(_receive_exactly(sock, size))


class DbtWorker:
    """The parent's handle on one worker process. Use as a context manager, or `close()`."""

    def __init__(
        self, settings: Settings, database_url: str, *, target_path: Path | None = None
    ) -> None:
        ours, theirs = socket.socketpair()
        self._sock = ours
        self._parse: ParseOutcome | None = None
        self._busy = False  # a dbt command sent, its result not yet received
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                # dbt prints its errors: on stderr, so `wearable run --json` stays JSON
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else None,
            )
        finally:
            theirs.close()
        _send(ours, (settings, database_url, target_path))

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
            _send(self._sock, list(args))
        except OSError as exc:
            raise DbtWorkerError(f"the dbt worker process has stopped: {exc}") from exc
        result = self._answer()
        self._busy = False
        assert isinstance(result, DbtResult)
        return result

    def _answer(self) -> Any:
        try:
            return _receive(self._sock)
        except (EOFError, OSError) as exc:
            code = self._process.poll()
            raise DbtWorkerError(
                f"the dbt worker process stopped (exit status {code}) before answering"
            ) from exc

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: at once when it is still busy (parsing, or a dbt command the
        caller gave up on, e.g. on Ctrl-C), else by asking it to exit."""
        idle = self._parse is not None and not self._busy
        if idle and self._process.poll() is None:
            with contextlib.suppress(OSError):
                _send(self._sock, None)
        self._sock.close()
        if not idle:
            self._process.terminate()
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False  # replaced (a test's capture): the worker keeps this process's stdout
    return True


def _serve(sock: socket.socket) -> None:
    """The worker's side: parse, say so, then run what the parent asks until told to stop."""
    from wearable_pipeline.config import disable_telemetry
    from wearable_pipeline.transform.dbt import parse_project, run_dbt

    disable_telemetry()
    settings, database_url, target_path = _receive(sock)
    started = time.perf_counter()
    manifest, parsed = parse_project(settings, database_url=database_url, target_path=target_path)
    _send(sock, ParseOutcome(parsed.success, parsed.error, time.perf_counter() - started))
    while True:
        try:
            args = _receive(sock)
        except EOFError:
            return
        if args is None:
            return
        result = run_dbt(
            args, settings, database_url=database_url, target_path=target_path, manifest=manifest
        )
        try:
            _send(sock, result)
        except OSError:
            return  # the parent went away


def main() -> None:
    # Ctrl-C is the parent's to act on (see the module docstring)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        _serve(sock)
    finally:
        sock.close()
    # The interpreter's final garbage collection would walk everything dbt built (the
    # parent waits for this exit); the OS reclaims the memory anyway.
    gc.freeze()


if __name__ == "__main__":
    # through the package's module, so that the pickled answers name their real classes
    from wearable_pipeline.transform.dbt_worker import main as serve

    serve()
