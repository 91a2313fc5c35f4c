"""The report in a real browser: headless Chromium opens the file with the network cut off;
every chart must draw (no script error, each chart's traces and marks present) and a
screenshot is saved for a person to look at.

Set WEARABLE_REPORT_SCREENSHOT=docs/report.png to also write the screenshot there (that is
how the README's picture is made).
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from wearable_pipeline.report.page import ReportOptions, write_report

from .browser import chromium_path, render
from .conftest import Study
from .helpers import CHARTS

pytestmark = pytest.mark.slow


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_every_chart_renders_in_chromium(study: Study, tmp_path: Path) -> None:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    import psycopg

    with psycopg.connect(study.database_url) as conn:
        written = write_report(conn, ReportOptions(out=tmp_path / "report.html"), study.settings)
    assert set(written.charts) == set(CHARTS) and written.empty == {}

    screenshot = tmp_path / "report.png"
    page = render(written.path, executable, screenshot)

    assert page.errors == []
    assert page.requests == []  # everything it needs is inside the file
    assert page.empty_states == []
    assert {chart.id for chart in page.charts} == set(CHARTS)
    for chart in page.charts:
        assert chart.svgs >= 1 and chart.traces >= 1, chart
        assert chart.values > 0 and chart.marks > 0, chart
        assert chart.narrow_bars == 0, chart  # a bar a person cannot see
    width, height = png_size(screenshot)
    assert width >= 1200 and height > 2000
    print(f"screenshot: {screenshot}")
    copy_to = os.environ.get("WEARABLE_REPORT_SCREENSHOT")
    if copy_to:
        shutil.copyfile(screenshot, copy_to)
