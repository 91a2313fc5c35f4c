"""The long-running processes this project starts, recorded so that one command stops them.

`wearable serve`, `wearable watch` and `wearable schedule` run in the foreground (a terminal,
a service manager); while they run, each keeps a small record in `<WEARABLE_HOME>/processes/`
(kind, pid, what it serves or watches). `wearable stop` reads them and asks each process to
stop with SIGTERM, which all of them handle by exiting cleanly: the API after its in-flight
requests, a watcher after its current run; a scheduler's run going on at that moment is
cancelled by Prefect's serving (recorded as failed, "interrupted").
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class RecordedProcess:
    kind: str  # api | watch | schedule
    pid: int
    create_time: float  # the process's start time, so a reused pid is not mistaken for it
    detail: str  # the API's URL, the watched folder, the schedule

    def describe(self) -> str:
        return f"{self.kind} (pid {self.pid}, {self.detail})"


def processes_dir(home: Path) -> Path:
    return Path(home).expanduser().resolve() / "processes"


@contextlib.contextmanager
def recorded(home: Path, kind: str, detail: str) -> Iterator[RecordedProcess]:
    """Record this process for the length of the block (and remove the record afterwards)."""
    import psutil

    me = RecordedProcess(kind, os.getpid(), psutil.Process().create_time(), detail)
    folder = processes_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{me.pid}.json"
    path.write_text(json.dumps(asdict(me)))
    try:
        yield me
    finally:
        path.unlink(missing_ok=True)


def running(home: Path) -> list[RecordedProcess]:
    """The recorded processes still alive; records of dead ones are removed."""
    folder = processes_dir(home)
    alive = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            process = RecordedProcess(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if _alive(process):
            alive.append(process)
        else:
            path.unlink(missing_ok=True)
    return alive


def stop(process: RecordedProcess, timeout: float = 120.0) -> bool:
    """SIGTERM, wait up to `timeout` for a clean exit, then SIGKILL. False if it had gone.

    The wait is long because a watcher finishes its current pipeline run before it exits.
    """
    import psutil

    if not _alive(process):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(process) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(process):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            psutil.Process(process.pid).wait(timeout=10)
    return True


def _alive(process: RecordedProcess) -> bool:
    return is_alive(process.pid, process.create_time)


# psutil derives a start time from the boot time, which moves when the system clock is
# stepped (NTP, a virtual machine's clock catching up: a 60 s step was seen on the CI machine),
# so the same process can report another start time later. A reused pid would have to belong
# to a process started within this window of the recorded one to be mistaken for it.
START_TIME_TOLERANCE_S = 300.0


def is_alive(pid: int, create_time: float) -> bool:
    """True when `pid` runs and is the process that started at `create_time` (pids get reused)."""
    import psutil

    try:
        candidate = psutil.Process(pid)
        same_start = abs(candidate.create_time() - create_time) <= START_TIME_TOLERANCE_S
        return same_start and candidate.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group `pid` leads (a background server started in a session of its
    own, with whatever helper processes it started), then SIGKILL after `timeout`."""
    import psutil

    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    try:
        psutil.Process(pid).wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            psutil.Process(pid).wait(timeout=10)


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """An exclusive lock on `lock_file`, so two processes never start two of one server."""
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_detached(
    command: list[str],
    log_file: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    append: bool = False,
) -> tuple[int, float] | None:
    """Start a background server: its output into `log_file`, in a session of its own, so
    Ctrl-C in the terminal that started it does not reach it and it outlives that command.

    Returns its pid and start time (what `is_alive` checks), or None when it exited at once
    (the caller says so, with `log_tail`).
    """
    import psutil

    with log_file.open("ab" if append else "wb") as log:
        child = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        return child.pid, psutil.Process(child.pid).create_time()
    except psutil.NoSuchProcess:
        return None


def log_tail(log_file: Path, characters: int = 3000) -> str:
    """The end of a background server's log, for an error that says why it stopped."""
    try:
        return log_file.read_text(errors="replace")[-characters:]
    except OSError:
        return f"(no log at {log_file})"
