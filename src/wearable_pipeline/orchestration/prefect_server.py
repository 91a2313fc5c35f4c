"""The resident Prefect server: `prefect server start` kept running between commands.

Managed like the embedded database: the first command that needs it starts it in the
background, on 127.0.0.1 and a free port (or `WEARABLE_PREFECT_PORT`), with its state, log and
SQLite database in `<WEARABLE_HOME>/prefect`; every later run reuses it, so a run starts in
seconds and its history stays visible in Prefect's UI. `wearable prefect stop` (or
`wearable stop`) stops it. With `PREFECT_API_URL` set, the user's own server is used and this
module is not involved.

Only Prefect's public interfaces are used: its CLI to start the server, environment variables
for settings, and the API's `/api/health` endpoint. Nothing here imports `prefect`, so
starting or checking the server costs no Prefect import.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from wearable_pipeline.config import TELEMETRY_OFF
from wearable_pipeline.orchestration.processes import (
    is_alive,
    locked,
    log_tail,
    start_detached,
    stop_group,
)

HOST = "127.0.0.1"
_STATE_FILE = "resident-server.json"
_LOCK_FILE = "resident-server.lock"
_LOG_FILE = "server.log"
# Variables that would point the server at another server or profile instead of itself.
_NOT_FOR_THE_SERVER = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE")


class PrefectServerError(RuntimeError):
    """The resident Prefect server could not be started or did not become healthy."""


@dataclass(frozen=True)
class ServerProcess:
    """What `resident-server.json` records about the server this project started."""

    pid: int
    port: int
    create_time: float  # the process's start time, so a reused pid is not mistaken for it

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass(frozen=True)
class ServerStatus:
    folder: Path
    process: ServerProcess | None  # None when not running
    healthy: bool

    @property
    def running(self) -> bool:
        return self.process is not None


def prefect_home(home: Path) -> Path:
    """Prefect's own home (PREFECT_HOME) inside the project's state folder."""
    return Path(home).expanduser().resolve() / "prefect"


def log_path(home: Path) -> Path:
    return prefect_home(home) / _LOG_FILE


def ui_url(api_url: str) -> str:
    """The UI's address for an API address (`…/api` → `…`), as Prefect derives PREFECT_UI_URL."""
    return api_url.rstrip("/").removesuffix("/api")


def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when `GET {api_url}/health` answers 200."""
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def running(home: Path) -> ServerProcess | None:
    """The resident server's process when it runs (healthy or still starting), else None."""
    return _running_process(prefect_home(home))


def status(home: Path) -> ServerStatus:
    """Whether the resident server for `home` runs and answers, without starting it."""
    process = _running_process(prefect_home(home))
    healthy = process is not None and is_healthy(process.api_url)
    return ServerStatus(folder=prefect_home(home), process=process, healthy=healthy)


def ensure_running(home: Path, *, port: int | None = None, timeout: float = 120.0) -> str:
    """Start the resident server if it is not running, wait until healthy, return its API URL.

    Safe to call from several processes at once: a lock file makes one of them start the
    server and the others wait for that one. Raises PrefectServerError with the end of the
    server's log when it exits or stays unhealthy for `timeout` seconds.
    """
    process = start(home, port=port)
    wait_until_healthy(home, process, timeout)
    return process.api_url


def start(home: Path, *, port: int | None = None) -> ServerProcess:
    """Start the resident server in the background if it is not running; do not wait.

    Returns the running (or just started) server. Lets a caller overlap the server's start-up
    (about 15 s the first time, 5 s later) with other work, then `wait_until_healthy`.
    """
    folder = prefect_home(home)
    folder.mkdir(parents=True, exist_ok=True)
    with locked(folder / _LOCK_FILE):
        running = _running_process(folder)
        if running is not None:
            return running
        return _spawn(folder, port or _previous_port(folder) or _free_port())


def wait_until_healthy(home: Path, process: ServerProcess, timeout: float = 120.0) -> None:
    """Poll `/api/health` until it answers; raise PrefectServerError if the server dies first."""
    deadline = time.monotonic() + timeout
    while True:
        if is_healthy(process.api_url):
            return
        if not _alive(process):
            raise PrefectServerError(
                f"the Prefect server (pid {process.pid}, port {process.port}) exited while "
                f"starting; its log ({log_path(home)}) ends with:\n{log_tail(log_path(home))}"
            )
        if time.monotonic() > deadline:
            raise PrefectServerError(
                f"the Prefect server at {process.ui_url} is not healthy after {timeout:.0f} s "
                f"(WEARABLE_PREFECT_START_TIMEOUT); `wearable prefect stop` and retry. Its log "
                f"({log_path(home)}) ends with:\n{log_tail(log_path(home))}"
            )
        time.sleep(0.25)


def stop(home: Path, timeout: float = 20.0) -> bool:
    """Stop the resident server (SIGTERM, then SIGKILL after `timeout`). False if not running."""
    folder = prefect_home(home)
    if not folder.is_dir():
        return False
    with locked(folder / _LOCK_FILE):
        process = _running_process(folder)
        if process is None:
            return False
        stop_group(process.pid, timeout)
        return True


def _spawn(folder: Path, port: int) -> ServerProcess:
    env = {key: value for key, value in os.environ.items() if key not in _NOT_FOR_THE_SERVER}
    env |= {**TELEMETRY_OFF, "PREFECT_HOME": str(folder)}
    command = [
        *_prefect_command(),
        *("server", "start", "--host", HOST, "--port", str(port), "--ui", "--analytics-off"),
    ]
    started = start_detached(command, folder / _LOG_FILE, env=env, cwd=folder)
    if started is None:
        raise PrefectServerError(
            f"`prefect server start` exited at once:\n{log_tail(folder / _LOG_FILE)}"
        )
    pid, create_time = started
    process = ServerProcess(pid=pid, port=port, create_time=create_time)
    (folder / _STATE_FILE).write_text(json.dumps(asdict(process)))
    return process


def _previous_port(folder: Path) -> int | None:
    """The port the last server here used, if it is free: a restarted server keeps its
    address (bookmarks of the UI, processes that already talk to it).

    Checked as uvicorn binds, with SO_REUSEADDR: the connections the last server closed
    linger in TIME_WAIT on its port for a minute, which keeps a plain bind out but not the
    server's."""
    try:
        port = int(json.loads((folder / _STATE_FILE).read_text())["port"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return None
    return port


def _prefect_command() -> list[str]:
    """Prefect's CLI from this interpreter's environment (`python -m prefect`)."""
    return [sys.executable, "-m", "prefect"]


def _running_process(folder: Path) -> ServerProcess | None:
    """The recorded server process, if it is still that process and alive."""
    try:
        process = ServerProcess(**json.loads((folder / _STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return process if _alive(process) else None


def _alive(process: ServerProcess) -> bool:
    return is_alive(process.pid, process.create_time)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
