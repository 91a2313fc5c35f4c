"""Render the report as one HTML file that opens anywhere, offline.

plotly.js is written into the page once (`plotly.offline.get_plotlyjs()`), each chart is a
`<div>` with the script that draws it, and the styles are inline: no CDN, no server, no
other file. The file is written beside its final name and renamed, so a reader never opens
half a report.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import plotly
import psycopg
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from wearable_pipeline.config import Settings
from wearable_pipeline.report.charts import (
    BELOW_BASELINE_PCT,
    Chart,
    build_charts,
    not_built,
)
from wearable_pipeline.report.data import COMPLIANCE, SUMMARY, ReportData, read_report_data
from wearable_pipeline.report.period import DEFAULT_ARRIVAL_DAYS, Period, resolve_period
from wearable_pipeline.report.rules import Rules, read_rules

log = logging.getLogger(__name__)

# The compliance table marks a participant whose last data is older than this (a week: a
# coordinator checks weekly).
SILENT_DAYS = 7

# Plotly's options for every chart: no logo link, no "edit in Chart Studio", resizes with
# the window.
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class ReportOptions:
    """What to report on. `start`/`end`: data dates (default: the last four weeks with
    device data); `arrival_days`: how many days of file and event arrivals, up to today."""

    out: Path | None = None
    start: date | None = None
    end: date | None = None
    arrival_days: int = DEFAULT_ARRIVAL_DAYS


@dataclass(frozen=True)
class WrittenReport:
    """The file written, its period, and which charts have data and which are empty (why)."""

    path: Path
    period: Period
    size_bytes: int
    charts: list[str] = field(default_factory=list)
    empty: dict[str, str] = field(default_factory=dict)


def default_report_path(home: Path, period: Period) -> Path:
    return Path(home) / "reports" / f"report-{period.start.isoformat()}-to-{period.end}.html"


def write_report(
    conn: psycopg.Connection, options: ReportOptions, settings: Settings
) -> WrittenReport:
    """Read the marts and ingestion records, render the report, write it; what was written.

    Raises PeriodError for a start after the end, RulesError when the dbt project's vars
    cannot be read, ValueError for fewer than one arrival day, psycopg errors from the
    database, OSError when the file cannot be written.
    """
    if options.arrival_days < 1:
        raise ValueError("arrival_days must be at least 1")
    rules = read_rules(settings.dbt_project_dir)
    period = resolve_period(conn, options.start, options.end)
    row = conn.execute("select (now() at time zone 'UTC')::date").fetchone()
    today = row[0] if row else date.today()
    data = read_report_data(
        conn,
        period,
        arrivals_start=today - timedelta(days=options.arrival_days - 1),
        arrivals_end=today,
    )
    charts = build_charts(data, rules, [row.user_id for row in data.compliance])
    html = render_report(data, rules, charts)
    path = Path(options.out) if options.out else default_report_path(settings.home, period)
    _write_atomically(path, html)
    written = WrittenReport(
        path=path.resolve(),
        period=period,
        size_bytes=path.stat().st_size,
        charts=[chart.chart_id for chart in charts if chart.has_data],
        empty={chart.chart_id: chart.empty_reason or "" for chart in charts if not chart.has_data},
    )
    log.info(
        "report written",
        extra={
            "path": str(written.path),
            "period": str(period),
            "bytes": written.size_bytes,
            "charts": written.charts,
            "empty_charts": sorted(written.empty),
        },
    )
    return written


def render_report(data: ReportData, rules: Rules, charts: list[Chart]) -> str:
    """The whole page as one string of HTML."""
    environment = Environment(
        loader=PackageLoader("wearable_pipeline.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    by_id = {chart.chart_id: _rendered(chart) for chart in charts}
    return template.render(
        data=data,
        rules=rules,
        charts=by_id,
        compliance_empty=_compliance_empty(data),
        below_baseline_pct=BELOW_BASELINE_PCT,
        silent_days=SILENT_DAYS,
        plotly_js=get_plotlyjs(),
        plotly_version=plotly.__version__,
        totals=_arrival_totals(data),
    )


@dataclass(frozen=True)
class RenderedChart:
    chart: Chart
    html: str | None


def _rendered(chart: Chart) -> RenderedChart:
    if chart.figure is None:
        return RenderedChart(chart, None)
    html = chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=chart.chart_id,
        config=_PLOTLY_CONFIG,
    )
    return RenderedChart(chart, html)


def _compliance_empty(data: ReportData) -> str | None:
    for table in (COMPLIANCE, SUMMARY):
        if table in data.missing:
            return not_built(table)
    if not data.compliance:
        return "no participant has device data yet"
    return None


def _arrival_totals(data: ReportData) -> dict[str, int]:
    totals = {
        "files": sum(f.files for f in data.files),
        "files_loaded": sum(f.files for f in data.files if f.status == "loaded"),
        "files_not_loaded": sum(
            f.files for f in data.files if f.status in ("rejected", "failed", "unrecognised")
        ),
        "rows_loaded": sum(f.rows_loaded for f in data.files),
        "rows_rejected": sum(f.rows_rejected for f in data.files),
    }
    for outcome in ("received", "accepted", "deduped", "rejected"):
        totals[f"events_{outcome}"] = sum(getattr(e, outcome) for e in data.events)
    return totals


def _write_atomically(path: Path, text: str) -> None:
    """Write beside `path` and rename (the file gets the permissions the umask gives)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
