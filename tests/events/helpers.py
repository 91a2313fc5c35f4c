"""Helpers for the event tests: a real uvicorn server in a thread, valid sample events.

Real HTTP rather than an in-process transport, so status codes, headers, gzip bodies and the
lifespan (pool, compiled contract) are exercised as a client sees them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from wearable_pipeline.config import Settings
from wearable_pipeline.events.api import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def start_server(settings: Settings, **app_options: Any) -> LiveServer:
    """Start `create_app(settings, **app_options)` in a uvicorn thread; return once it serves."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, **app_options),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test API server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", settings, server, thread)


def wearable(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("wearable")), *args]


@dataclass
class Served:
    process: subprocess.Popen[str]
    base: str
    env: dict[str, str]


@contextmanager
def serving(
    database_url: str,
    home: Path,
    *,
    up_when: str,
    workers: int = 1,
    log: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`wearable serve` as a real process, until `GET up_when` answers 200; SIGTERM on exit.

    The process's output is read by the caller afterwards (`served.process.communicate()`),
    or, with `log`, goes to that file (for tests that make more requests than a pipe holds).
    """
    port = free_port()
    output = log.open("w") if log is not None else subprocess.PIPE
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEARABLE_HOME": str(home),
        "WEARABLE_API_KEYS": "",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        wearable("--log-json", "serve", "--port", str(port), "--workers", str(workers)),
        env=env,
        stdout=output,
        stderr=output,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text() if log else process.stderr.read()  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}{up_when}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"wearable serve: {up_when} never answered 200"
            time.sleep(0.1)
        yield Served(process, base, env)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
            if log is not None:
                output.close()  # type: ignore[union-attr]


def make_settings(database_url: str, home: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        home=home,
        data_dir=home / "data",
        **overrides,
    )


def make_event(name: str = "page_view", **overrides: Any) -> dict[str, Any]:
    """A valid event of the catalog (payloads for every name), with fields overridden."""
    payloads: dict[str, dict[str, Any]] = {
        "page_view": {"page_title": "Dashboard", "entry_point": "direct"},
        "identify": {"user_status": "known"},
        "connect_device_started": {"vendor": "fitbit"},
        "connect_device_succeeded": {"vendor": "oura", "device_model": "Ring 3"},
        "connect_device_failed": {"vendor": "garmin", "error_code": "e1", "error_message": "no"},
        "sync_requested": {"vendor": "whoop", "date_range": "day", "sync_status": "requested"},
        "sync_completed": {
            "vendor": "fitbit",
            "date_range": "week",
            "sync_status": "completed",
            "records_synced": 12,
        },
        "sync_failed": {
            "vendor": "samsung",
            "date_range": "month",
            "sync_status": "failed",
            "error_code": "timeout",
            "error_message": "vendor timeout",
        },
        "metric_viewed": {"metric_type": "steps", "date_range": "day", "vendor": "fitbit"},
        "goal_created": {
            "metric_type": "steps",
            "target_value": 10000,
            "target_unit": "steps",
            "date_range": "day",
        },
        "export_clicked": {"export_format": "csv", "date_range": "custom", "vendor": "other"},
        "ui_error": {
            "component": "chart",
            "error_code": "render",
            "error_message": "boom",
            "severity": "warning",
        },
        "api_error": {
            "endpoint": "/api/v1/sync",
            "status_code": 502,
            "error_code": "bad_gateway",
            "error_message": "upstream",
        },
        "perf_lcp": {"lcp_ms": 1234.5, "page_type": "dashboard"},
        "perf_api_latency": {
            "api_latency_ms": 87.0,
            "endpoint": "/api/v1/summary",
            "status_code": 200,
        },
    }
    event: dict[str, Any] = {
        "schema_version": "1.0.0",
        "event_id": str(uuid.uuid4()),
        "event_name": name,
        "user_id": "1503960366",
        "client_ts": "2024-01-01T08:30:00.123+01:00",
        "source": "web",
        "environment": "prod",
        "payload": payloads[name],
    }
    event.update(overrides)
    return event
