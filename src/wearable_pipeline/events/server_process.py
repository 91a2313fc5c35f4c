"""The event API as a child process: `wearable serve` on a free local port, stopped on exit.

Used by the demo, the end-to-end tests and the pipeline benchmark, which want the service
exactly as it runs in production (its own process, real HTTP), for the length of a block.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from wearable_pipeline.orchestration.processes import log_tail


class ApiStartError(RuntimeError):
    """`wearable serve` exited or did not become ready; the message carries its last log."""


class EventApiProcess:
    """Context manager: start the API, wait for `/ready`, stop it with SIGTERM afterwards.

    The service's log (one JSON line per request) goes to `log_path`: to a file, never to a
    pipe nobody reads, which would fill and stall the server after a few hundred requests.
    """

    def __init__(
        self, database_url: str, log_path: Path, *, startup_timeout_s: float = 60.0
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events_url = f"{self.url}/v1/events"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> EventApiProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "wearable_pipeline.cli", "serve", "--port", str(self.port)],
            env={**os.environ, "DATABASE_URL": self.database_url},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._close_log()
                raise ApiStartError(f"the event API exited at start-up:\n{log_tail(self.log_path)}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self._stop()
        raise ApiStartError(
            f"the event API did not become ready within {self.startup_timeout_s:.0f} s:\n"
            f"{log_tail(self.log_path)}"
        )

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
