"""Fixtures for the ingest tests (helpers live in ingest_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """An empty drop folder (the `data/` of a test)."""
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder
