"""`wearable report` without a browser: the file is self-contained, the period and its
defaults, the command's output and errors, and the empty states that say why.

Reads the package's built study (conftest.py); the empty-database case uses a fresh one.
"""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from wearable_pipeline.cli import app
from wearable_pipeline.config import Settings, get_settings
from wearable_pipeline.report.charts import build_charts, cohort_baseline, wear_heatmap
from wearable_pipeline.report.data import ReportData, WearDay
from wearable_pipeline.report.page import ReportOptions, WrittenReport, write_report
from wearable_pipeline.report.period import Period, PeriodError, resolve_period
from wearable_pipeline.report.rules import read_rules

from .conftest import Study
from .helpers import CHARTS

pytestmark = pytest.mark.slow


def report_of(url: str, settings: Settings, options: ReportOptions) -> WrittenReport:
    with psycopg.connect(url) as conn:
        return write_report(conn, options, settings)


class References(HTMLParser):
    """Every tag's src and href, and the tags that load things (script contents, plotly.js
    included, are not markup and are not read)."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.references += [value or "" for name, value in attrs if name in ("src", "href")]


def test_the_file_carries_everything_it_needs(study: Study, tmp_path: Path) -> None:
    written = report_of(study.database_url, study.settings, ReportOptions(out=tmp_path / "r.html"))
    html = written.path.read_text(encoding="utf-8")
    # nothing fetched from elsewhere: every src/href is an anchor in the page
    parser = References()
    parser.feed(html)
    assert parser.references and all(ref.startswith("#") for ref in parser.references)
    assert not parser.tags & {"link", "img", "iframe", "object", "embed"}
    assert get_plotlyjs()[:2000] in html  # plotly.js itself, inline
    for chart in CHARTS:
        assert f'id="{chart}"' in html
    assert "data-empty-chart" not in html and 'data-table="compliance"' in html
    assert written.empty == {} and written.charts == CHARTS


def test_the_default_period_is_the_last_four_weeks_with_device_data(study: Study) -> None:
    with psycopg.connect(study.database_url) as conn:
        # the study has 21 days: four weeks would reach before its first day
        assert resolve_period(conn, None, None) == Period(date(2024, 1, 1), date(2024, 1, 21))
        assert resolve_period(conn, None, date(2024, 1, 10)) == Period(
            date(2024, 1, 1), date(2024, 1, 10)
        )
        assert resolve_period(conn, date(2024, 1, 5), None) == Period(
            date(2024, 1, 5), date(2024, 2, 1)
        )
    with pytest.raises(PeriodError, match="--from 2024-01-05 is after --to 2024-01-01"):
        Period(date(2024, 1, 5), date(2024, 1, 1))


@pytest.fixture
def cli_on_study(study: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", study.database_url)
    monkeypatch.setenv("WEARABLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_command_writes_the_report_and_says_where(
    cli_on_study: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "reports" / "week.html"
    result = cli_on_study.invoke(
        app, ["report", "--from", "2024-01-15", "--to", "2024-01-21", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert written["path"] == str(out.resolve()) and out.stat().st_size == written["bytes"]
    assert (written["from"], written["to"]) == ("2024-01-15", "2024-01-21")
    assert written["charts"] == CHARTS and written["empty"] == {}

    default = cli_on_study.invoke(app, ["report"])
    assert default.exit_code == 0, default.output
    expected = tmp_path / "home" / "reports" / "report-2024-01-01-to-2024-01-21.html"
    assert expected.is_file()
    assert f"written to {expected.resolve()}" in " ".join(default.stdout.split())


def test_the_command_refuses_a_period_that_ends_before_it_starts(
    cli_on_study: CliRunner,
) -> None:
    result = cli_on_study.invoke(app, ["report", "--from", "2024-01-21", "--to", "2024-01-01"])
    assert result.exit_code == 2
    assert "--from 2024-01-21 is after --to 2024-01-01" in result.stderr


def test_a_period_without_data_says_why_each_chart_is_empty(study: Study, tmp_path: Path) -> None:
    options = ReportOptions(out=tmp_path / "r.html", start=date(2023, 1, 1), end=date(2023, 1, 28))
    written = report_of(study.database_url, study.settings, options)
    period = "from 2023-01-01 to 2023-01-28"
    assert written.empty == {
        "wear-heatmap": f"no participant has device data {period}",
        "steps-per-user": f"no daily activity (steps) data {period}",
        "asleep-per-user": f"no sleep data {period}",
        "cohort-baseline": f"no active day of a participant with a baseline {period}",
        "source-volume": f"no source has records {period}",
    }
    # what arrived is about today, not the period: still there
    assert written.charts == ["files-per-day", "events-per-day"]
    html = written.path.read_text(encoding="utf-8")
    for reason in written.empty.values():
        assert reason in html


def test_a_database_without_marts_says_how_to_build_them(
    fresh_database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=fresh_database_url,
        home=tmp_path / "home",
        data_dir=tmp_path / "data",
    )
    written = report_of(fresh_database_url, settings, ReportOptions(out=tmp_path / "r.html"))
    assert written.charts == []
    for chart in ["wear-heatmap", "steps-per-user", "asleep-per-user", "cohort-baseline"]:
        assert "does not exist yet on this database: build the marts" in written.empty[chart]
    assert written.empty["source-volume"].startswith("marts.source_volume_daily does not exist")
    assert written.empty["files-per-day"].startswith("no file arrived from")
    assert written.empty["events-per-day"].startswith("the event API received no request")
    html = written.path.read_text(encoding="utf-8")
    assert 'data-empty-table="compliance"' in html


def test_days_with_only_daily_totals_have_no_wear_hours(project_root: Path) -> None:
    rules = read_rules(project_root / "dbt")
    period = Period(date(2024, 1, 1), date(2024, 1, 2))
    data = ReportData(period, date(2024, 1, 1), date(2024, 1, 2))
    data.wear = [WearDay("u1", date(2024, 1, 1), 0, None, False)]
    chart = wear_heatmap(data, rules, ["u1"])
    assert chart.figure is None
    assert chart.empty_reason == (
        "no heart-rate, minute or hourly data from 2024-01-01 to 2024-01-02, so no wear "
        "hours (the days have only daily totals or sleep)"
    )
    no_baseline = cohort_baseline(data, rules)
    assert no_baseline.empty_reason == (
        f"no participant has {rules.step_baseline_days} days with steps yet, so no one has a "
        "baseline to compare with"
    )


def test_every_chart_says_what_it_shows_and_its_unit(project_root: Path) -> None:
    rules = read_rules(project_root / "dbt")
    period = Period(date(2024, 1, 1), date(2024, 1, 2))
    charts = build_charts(ReportData(period, date(2024, 1, 1), date(2024, 1, 2)), rules, [])
    assert [chart.chart_id for chart in charts] == CHARTS
    for chart in charts:
        assert chart.title and "Unit" in chart.caption, chart.chart_id
        assert chart.figure is None and chart.empty_reason, chart.chart_id
