"""Open a report in headless Chromium (Debian's `chromium`, driven by Playwright) and say
what rendered: script errors, network requests, and each chart's traces and marks.

Playwright's own browser downloads are never used (`playwright install` is not run): the
system's Chromium is launched by path, with the flags a sandboxed CI machine needs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Per chart: its traces, how many values they carry, and the marks drawn for them in the
# SVG (scatter paths and points, bars, the heatmap's image).
_INSPECT_CHARTS = """
() => Array.from(document.querySelectorAll('.chart .js-plotly-plot')).map((plot) => ({
    id: plot.id,
    traces: (plot.data || []).length,
    values: (plot.data || []).reduce(
        (n, trace) => n + Array.from(trace.z ? trace.z.flat() : (trace.y || []))
            .filter((v) => v !== null && v !== undefined).length, 0),
    marks: Array.from(plot.querySelectorAll(
        '.scatterlayer .trace path.js-line, .scatterlayer .point, .barlayer .point path, '
        + '.heatmaplayer image')).filter((mark) => {
            const box = mark.getBoundingClientRect();
            return box.width >= 1 || box.height >= 1;
        }).length,
    narrow_bars: Array.from(plot.querySelectorAll('.barlayer .point path')).filter((bar) => {
        const box = bar.getBoundingClientRect();
        return box.height > 0 && box.width < 2;
    }).length,
    svgs: plot.querySelectorAll('svg.main-svg').length,
}))
"""


def chromium_path() -> str | None:
    """Debian's Chromium, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class ChartState:
    id: str
    traces: int
    values: int
    marks: int
    narrow_bars: int
    svgs: int


@dataclass
class RenderedPage:
    """What the browser saw while loading the page."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[ChartState] = field(default_factory=list)
    empty_states: list[str] = field(default_factory=list)
    title: str = ""


def render(report: Path, executable: str, screenshot: Path, *, width: int = 1280) -> RenderedPage:
    """Load `report` from disk with every network request refused (and recorded), wait for
    its charts, write a full-page screenshot to `screenshot`, and return what rendered."""
    from playwright.sync_api import sync_playwright

    page_state = RenderedPage()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on(
                "console",
                lambda message: (
                    page_state.errors.append(f"console: {message.text}")
                    if message.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda error: page_state.errors.append(f"page: {error}"))

            def refuse_network(route, request) -> None:
                if request.url.startswith(("file:", "data:", "blob:", "about:")):
                    route.continue_()
                    return
                page_state.requests.append(request.url)
                route.abort()

            page.route("**/*", refuse_network)
            page.goto(report.resolve().as_uri(), wait_until="load")
            expected = page.locator(".chart").count()
            page.wait_for_function(
                "(n) => document.querySelectorAll('.chart .js-plotly-plot .main-svg').length >= n",
                arg=expected,
                timeout=30_000,
            )
            page.wait_for_timeout(300)  # let plotly finish its last layout pass
            page_state.charts = [ChartState(**chart) for chart in page.evaluate(_INSPECT_CHARTS)]
            page_state.empty_states = page.locator("[data-empty-chart]").evaluate_all(
                "(nodes) => nodes.map((node) => node.dataset.emptyChart)"
            )
            page_state.title = page.title()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return page_state
