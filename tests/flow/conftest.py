"""Fixtures for the flow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wearable_pipeline.pipeline import stop_temporary_prefect_server


@pytest.fixture(scope="module", autouse=True)
def _prefect_server_stopped_after_module() -> Iterator[None]:
    """Flow runs in this module share Prefect's temporary server; stop it when they are done."""
    yield
    stop_temporary_prefect_server()
