"""Fixtures for the flow tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wearable_pipeline.config import Settings
from wearable_pipeline.orchestration.runner import configure_prefect, stop_temporary_prefect_server

# Prefect reads its settings when first imported: give it a private home before any test
# module imports the flow, so tests never touch ~/.prefect or the project's .wearable/.
configure_prefect(
    Settings(_env_file=None, home=Path(tempfile.mkdtemp(prefix="wearable-test-prefect-")))  # type: ignore[call-arg]
)


@pytest.fixture(scope="module", autouse=True)
def _prefect_server_stopped_after_module() -> Iterator[None]:
    """Flow runs in this module share Prefect's temporary server; stop it when they are done."""
    yield
    stop_temporary_prefect_server()
