"""Fixtures for the orchestration tests: one resident Prefect server for the whole session.

Prefect reads its settings when first imported, and collecting the tests imports the flow, so
the session's server address is fixed here, at import: a private WEARABLE_HOME (whose
`prefect/` folder holds the server's state) and a free port. The server itself starts (about
15 s) only when the first test that needs it asks for `prefect_server`, and stops at the end.
Tests in this process reach it through PREFECT_API_URL; the CLI processes they start can use
it either that way or as the resident server of `prefect_server.home`.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wearable_pipeline.config import TELEMETRY_OFF
from wearable_pipeline.orchestration import prefect_server as resident


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_HOME = Path(tempfile.mkdtemp(prefix="wearable-test-prefect-"))
_PORT = _free_port()
_API_URL = f"http://127.0.0.1:{_PORT}/api"
os.environ.update(
    {
        **TELEMETRY_OFF,
        "PREFECT_HOME": str(resident.prefect_home(_HOME)),
        "PREFECT_API_URL": _API_URL,
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
        # scheduled runs are picked up within a second or two, not Prefect's default 10 s
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
)


@dataclass(frozen=True)
class PrefectServer:
    home: Path  # a WEARABLE_HOME whose resident server this is
    api_url: str

    def cli_env(self, **extra: str) -> dict[str, str]:
        """Environment for a `wearable` process that finds this server as its resident one."""
        env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
        return {**env, "WEARABLE_HOME": str(self.home), **extra}


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    api_url = resident.ensure_running(_HOME, port=_PORT)
    assert api_url == _API_URL
    yield PrefectServer(_HOME, api_url)
    resident.stop(_HOME)
    shutil.rmtree(_HOME, ignore_errors=True)
