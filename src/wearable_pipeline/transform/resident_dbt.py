"""The resident dbt worker: dbt imported and warmed up once, kept running between pipeline runs.

Importing dbt and parsing the project cost a fresh process about 4 s, on every `wearable run`.
This process pays it once: started on first need (like the resident Prefect server), it
imports dbt, parses the project once to warm dbt's caches (as the run that started it would,
so that run's own parse is a partial one: WarmUp), then listens on a Unix socket in
`<WEARABLE_HOME>/dbt-worker/`. Each pipeline run connects and gets a session: a child forked
from the warm process, which parses the project (partial parsing: a fraction of a second when
nothing changed) and runs the run's seed, run and test on that manifest (see dbt_worker.py for
the protocol). Sessions are separate processes, so two runs never share dbt's process-wide
state, a crash ends one session only, and every session sees the project as it is now.

A session takes the client's environment and working directory, so a run behaves as if dbt
ran in its own process. The worker restarts itself when the code it runs changes (another
dbt or wearable-pipeline version, an edited transform module), exits after
`WEARABLE_DBT_WORKER_IDLE_TIMEOUT` seconds without a session or when its folder is deleted,
and `wearable stop` stops it. Only the standard library's documented `multiprocessing.connection`
(with an authentication key readable only by this user) and `os.fork` are involved.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import secrets
import signal
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from wearable_pipeline.orchestration.processes import (
    is_alive,
    locked,
    log_tail,
    start_detached,
    stop_group,
)

_STATE_FILE = "worker.json"
_LOCK_FILE = "worker.lock"
_LOG_FILE = "worker.log"
_SOCKET = "worker.sock"
_AUTHKEY = "authkey"
# A Unix socket's path must fit in sockaddr_un (108 bytes on Linux, NUL included).
_MAX_SOCKET_PATH = 100
# How often the idle worker checks whether it should exit.
_IDLE_CHECK_SECONDS = 5.0


class ResidentWorkerError(RuntimeError):
    """The resident dbt worker could not be started or reached."""


@dataclass(frozen=True)
class WorkerProcess:
    """What `worker.json` records about the running worker."""

    pid: int
    create_time: float  # the process's start time, so a reused pid is not mistaken for it
    code: str  # code_version() of the code it runs


@dataclass(frozen=True)
class WarmUp:
    """What the worker's own first parse renders the profile with: the database and dbt
    target folder of the client that starts it.

    dbt reuses a partial-parse state only under the same connection (host, port, user,
    database, schema) and in the same folder. Parsed under these, the warm-up leaves a state
    that the client's session finds, so that session parses in a fraction of a second rather
    than parsing the whole project a second time: seconds of CPU, in a fresh clone, taken
    from the Prefect server and the rest of a first run that start at the same moment. The
    password is left out: dbt's state does not depend on it, the worker does not need it, and
    these are on the worker's command line.
    """

    database_url: str  # parsing never connects
    target_path: Path | None  # None: the project's own target folder

    @classmethod
    def of(cls, database_url: str, target_path: Path | None) -> WarmUp:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        parts = conninfo_to_dict(database_url)
        parts.pop("password", None)
        return cls(make_conninfo(**parts), target_path)

    def as_args(self) -> list[str]:
        """The worker's command-line arguments for it (read back by `from_args`)."""
        return [self.database_url, str(self.target_path or "")]

    @classmethod
    def from_args(cls, database_url: str, target_path: str) -> WarmUp:
        return cls(database_url, Path(target_path) if target_path else None)


@dataclass(frozen=True)
class SessionRequest:
    """What a client sends first: who it is, so the session runs dbt as the client would."""

    settings: Any  # wearable_pipeline.config.Settings
    database_url: str
    target_path: Path | None
    environ: dict[str, str]
    cwd: str


def worker_folder(home: Path) -> Path:
    return Path(home).expanduser().resolve() / "dbt-worker"


def log_path(home: Path) -> Path:
    return worker_folder(home) / _LOG_FILE


def socket_path(home: Path) -> Path:
    return worker_folder(home) / _SOCKET


def usable(home: Path) -> bool:
    """False where the socket's path would be too long for a Unix socket."""
    return len(os.fsencode(socket_path(home))) <= _MAX_SOCKET_PATH


def code_version() -> str:
    """What a running worker must match to be reused: the interpreter, the versions of dbt and
    of this package, and the files of the modules the worker runs (an edit restarts it)."""
    parts = [sys.executable]
    for distribution in ("dbt-core", "dbt-postgres", "wearable-data-pipeline"):
        try:
            parts.append(f"{distribution}=={metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{distribution} missing")
    package = Path(__file__).resolve().parent.parent
    for path in sorted([*package.glob("transform/*.py"), package / "config.py"]):
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def running(home: Path) -> WorkerProcess | None:
    """The recorded worker when it is still alive, else None."""
    try:
        process = WorkerProcess(**json.loads((worker_folder(home) / _STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return process if is_alive(process.pid, process.create_time) else None


def start(home: Path, idle_timeout: float, warm_up: WarmUp) -> WorkerProcess:
    """Start the worker in the background unless one running the same code is up; no wait.

    A worker running other code (an upgrade, an edited module) is stopped and replaced. Safe
    to call from several processes at once (a lock file makes one of them start it).
    `warm_up`: the database and target folder its first parse uses (see WarmUp), when it
    starts now.
    """
    folder = worker_folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    code = code_version()
    with locked(folder / _LOCK_FILE):
        current = running(home)
        if current is not None and current.code == code:
            return current
        if current is not None:
            stop_group(current.pid, timeout=10.0)
        return _spawn(folder, idle_timeout, code, warm_up)


def connect(home: Path, timeout: float = 60.0) -> Connection:
    """A connection to the running worker (waiting up to `timeout` for its socket to exist).

    Blocks until the worker accepts, which a worker still importing dbt does only once that
    is done: call it off the critical path (DbtWorker.resident does, in a thread).
    """
    folder = worker_folder(home)
    deadline = time.monotonic() + timeout
    while True:
        process = running(home)
        if process is None:
            raise ResidentWorkerError(
                f"the resident dbt worker is not running; its log ({log_path(home)}) ends "
                f"with:\n{log_tail(folder / _LOG_FILE)}"
            )
        try:
            authkey = (folder / _AUTHKEY).read_bytes()
            return Client(str(folder / _SOCKET), family="AF_UNIX", authkey=authkey)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            if time.monotonic() > deadline:
                raise ResidentWorkerError(
                    f"the resident dbt worker did not accept a connection in {timeout:.0f} s"
                ) from exc
            time.sleep(0.05)


def stop(home: Path, timeout: float = 10.0) -> bool:
    """Stop the worker and its sessions (SIGTERM, then SIGKILL). False if it was not running."""
    folder = worker_folder(home)
    if not folder.is_dir():
        return False
    with locked(folder / _LOCK_FILE):
        process = running(home)
        if process is None:
            return False
        stop_group(process.pid, timeout)
        return True


def _spawn(folder: Path, idle_timeout: float, code: str, warm_up: WarmUp) -> WorkerProcess:
    authkey = folder / _AUTHKEY
    authkey.unlink(missing_ok=True)
    # Created readable by this user only: the key is what admits a client.
    descriptor = os.open(authkey, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    (folder / _SOCKET).unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "wearable_pipeline.transform.resident_dbt",
        str(folder),
        str(idle_timeout),
        *warm_up.as_args(),
    ]
    started = start_detached(command, folder / _LOG_FILE, append=True)
    if started is None:
        raise ResidentWorkerError(f"the dbt worker exited at once:\n{log_tail(folder / _LOG_FILE)}")
    pid, create_time = started
    process = WorkerProcess(pid=pid, create_time=create_time, code=code)
    (folder / _STATE_FILE).write_text(json.dumps(asdict(process)))
    return process


# ---- the worker process -------------------------------------------------------------------


class _Idle(Exception):
    """Raised by the idle check to end the accept loop."""


def _warm_up(folder: Path, warm_up: WarmUp) -> None:
    """Import dbt and parse the project once, as the starting client would (WarmUp): what
    makes a session's own parse take a fraction of a second (dbt's caches are then in memory,
    and a forked session inherits them)."""
    from wearable_pipeline.config import Settings, disable_telemetry
    from wearable_pipeline.transform.dbt import parse_project

    disable_telemetry()
    started = time.perf_counter()
    settings = Settings(_env_file=None, home=folder.parent)  # type: ignore[call-arg]
    _, result = parse_project(
        settings, database_url=warm_up.database_url, target_path=warm_up.target_path
    )
    print(
        json.dumps(
            {
                "event": "warmed up",
                "project_dir": str(settings.dbt_project_dir),
                "target_path": str(warm_up.target_path or settings.dbt_project_dir / "target"),
                "parse_ok": result.success,
                "seconds": round(time.perf_counter() - started, 2),
            }
        ),
        flush=True,
    )


def _session(conn: Connection) -> None:
    """A forked child serving one client: its environment, then dbt_worker's protocol."""
    from wearable_pipeline.transform.dbt_worker import serve

    request = conn.recv()
    if not isinstance(request, SessionRequest):
        print(json.dumps({"event": "bad request", "type": type(request).__name__}), flush=True)
        return
    os.environ.clear()
    os.environ.update(request.environ)
    with contextlib.suppress(OSError):
        os.chdir(request.cwd)
    serve(
        conn,
        request.settings,
        request.database_url,
        request.target_path,
        stdout_to_stderr=False,
    )


def _serve_forever(listener: Listener, folder: Path, idle_timeout: float) -> None:
    """Accept clients until idle for `idle_timeout` s or the folder is gone; fork per client."""
    last_session = time.monotonic()
    sessions: set[int] = set()  # pids of the sessions forked (dbt's own helpers are not)
    waiting = False  # in accept(): the only place the idle check may end the loop

    def check_idle(signum: int, frame: object) -> None:
        if not waiting:
            return
        if not folder.is_dir():
            raise _Idle("folder deleted")
        import psutil

        # finished sessions are reaped at once (SIGCHLD ignored), so their pids vanish
        sessions.difference_update([pid for pid in sessions if not psutil.pid_exists(pid)])
        if not sessions and time.monotonic() - last_session > idle_timeout:
            raise _Idle(f"no session for {idle_timeout:g} s")

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished sessions are reaped by the kernel
    signal.signal(signal.SIGALRM, check_idle)
    signal.setitimer(signal.ITIMER_REAL, _IDLE_CHECK_SECONDS, _IDLE_CHECK_SECONDS)
    try:
        while True:
            waiting = True
            try:
                conn = listener.accept()
            except (AuthenticationError, OSError, EOFError) as exc:  # a wrong key, or it left
                print(json.dumps({"event": "refused", "error": str(exc)}), flush=True)
                continue
            finally:
                waiting = False
            last_session = time.monotonic()
            pid = os.fork()
            if pid:
                sessions.add(pid)
            else:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                listener.close()
                code = 0
                try:
                    _session(conn)
                except BaseException:  # logged; the session ends either way
                    import traceback

                    traceback.print_exc()
                    code = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    # no interpreter shutdown: the parent's state (the listener) is not ours
                    os._exit(code)
            conn.close()
    except _Idle as reason:
        print(json.dumps({"event": "exiting", "reason": str(reason)}), flush=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        listener.close()


def main(argv: list[str]) -> int:
    folder, idle_timeout, warm_up = Path(argv[0]), float(argv[1]), WarmUp.from_args(*argv[2:4])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the runs, not to us
    # Listening first: a client that connects during the warm-up waits in the backlog.
    authkey = (folder / _AUTHKEY).read_bytes()
    listener = Listener(str(folder / _SOCKET), family="AF_UNIX", authkey=authkey)
    _warm_up(folder, warm_up)
    # What the warm-up built lives as long as this process: out of the collector's sight
    # (gc.freeze, as Python's docs advise before fork), so a session's collections do not
    # walk it, nor copy the pages they would touch.
    gc.freeze()
    _serve_forever(listener, folder, idle_timeout)
    return 0


if __name__ == "__main__":
    # Through the module's real name: run as __main__, its classes would not be the ones a
    # client pickles (wearable_pipeline.transform.resident_dbt.SessionRequest).
    from wearable_pipeline.transform.resident_dbt import main as _main

    raise SystemExit(_main(sys.argv[1:]))
