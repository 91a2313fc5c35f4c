"""The report's charts as plotly figures, each with what it shows, its unit, or why it is empty.

Every builder takes the rows `data` read and returns a `Chart`: a figure, or no figure and a
sentence that says why (no table yet, nothing in the period, nothing of that kind at all), so
an empty chart never looks like a broken one.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from wearable_pipeline.report.data import (
    BASELINE,
    SUMMARY,
    USER_BASELINE,
    VOLUME,
    ReportData,
    VolumeDay,
)
from wearable_pipeline.report.period import Period
from wearable_pipeline.report.rules import Rules

# The cohort chart counts participants below this share of their own baseline.
BELOW_BASELINE_PCT = 80

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_STATUS_COLOURS = {
    "loaded": "#2ca02c",
    "skipped": "#9ecae1",
    "unrecognised": "#bdbdbd",
    "rejected": "#ff7f0e",
    "failed": "#d62728",
}
_EVENT_COLOURS = {"accepted": "#2ca02c", "deduped": "#9ecae1", "rejected": "#d62728"}
# A bar on a date axis is as wide as its `width` in milliseconds; plotly's default for a
# single bar is one millisecond, which no one can see.
_BAR_WIDTH_MS = 0.8 * 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Chart:
    """One chart of the report: a figure, or `empty_reason` saying why there is none."""

    chart_id: str
    title: str
    caption: str
    figure: go.Figure | None = None
    empty_reason: str | None = None

    @property
    def has_data(self) -> bool:
        return self.figure is not None


def build_charts(data: ReportData, rules: Rules, user_order: list[str]) -> list[Chart]:
    """Every chart of the report, in page order."""
    return [
        wear_heatmap(data, rules, user_order),
        steps_per_user(data),
        asleep_per_user(data),
        cohort_baseline(data, rules),
        source_volume(data, rules),
        files_per_day(data),
        events_per_day(data),
    ]


def not_built(table: str) -> str:
    return (
        f"{table} does not exist yet on this database: build the marts with `wearable run` "
        "(or `wearable dbt build`), then make the report again"
    )


def wear_heatmap(data: ReportData, rules: Rules, user_order: list[str]) -> Chart:
    threshold = rules.valid_day_min_hours
    chart = Chart(
        "wear-heatmap",
        "Valid wear hours per participant and day",
        f"Hours of each day with at least {rules.valid_hour_min_minutes} valid minutes "
        "(RAPIDS' data yield: a minute with a heart-rate sample, else with steps or "
        f"intensity). Green: a valid day (at least {threshold} valid hours); orange: worn "
        "too little; blank: no device data that day. Participants in the compliance "
        "table's order, worst first. Unit: hours (0-24).",
    )
    if SUMMARY in data.missing:
        return _empty(chart, not_built(SUMMARY))
    if not data.wear:
        return _empty(chart, f"no participant has device data from {data.period}")
    if all(day.wear_basis is None for day in data.wear):
        return _empty(
            chart,
            f"no heart-rate, minute or hourly data from {data.period}, so no wear hours "
            "(the days have only daily totals or sleep)",
        )
    dates = data.period.dates()
    column = {day: index for index, day in enumerate(dates)}
    users = [user for user in user_order if user in {d.user_id for d in data.wear}]
    users += sorted({d.user_id for d in data.wear} - set(users))
    row = {user: index for index, user in enumerate(users)}
    hours: list[list[int | None]] = [[None] * len(dates) for _ in users]
    basis: list[list[str]] = [[""] * len(dates) for _ in users]
    for day in data.wear:
        hours[row[day.user_id]][column[day.summary_date]] = day.valid_hours
        basis[row[day.user_id]][column[day.summary_date]] = day.wear_basis or "no wear data"
    edge = (threshold - 0.5) / 24
    figure = go.Figure(
        go.Heatmap(
            x=[d.isoformat() for d in dates],
            y=users,
            z=hours,
            customdata=basis,
            zmin=0,
            zmax=24,
            xgap=1,
            ygap=1,
            colorscale=[
                [0.0, "#fff5eb"],
                [edge, "#fd8d3c"],
                [edge, "#c7e9c0"],
                [1.0, "#00441b"],
            ],
            colorbar={"title": {"text": "valid hours"}, "tickvals": [0, threshold, 24]},
            hovertemplate="%{y}<br>%{x}<br>%{z} valid hours (%{customdata})<extra></extra>",
        )
    )
    _layout(figure, height=140 + 24 * len(users), y_title="participant", x_title="local date")
    figure.update_yaxes(autorange="reversed", type="category")
    return _filled(chart, figure)


def steps_per_user(data: ReportData) -> Chart:
    chart = Chart(
        "steps-per-user",
        "Daily steps per participant",
        "Steps per day from the daily activity files (the source chosen by priority), one "
        "line per participant. Unit: steps per day.",
    )
    points = [(d.user_id, d.summary_date, d.steps) for d in data.daily if d.steps is not None]
    return _per_user_lines(chart, data, points, "steps per day", "no daily activity (steps)")


def asleep_per_user(data: ReportData) -> Chart:
    chart = Chart(
        "asleep-per-user",
        "Minutes asleep per participant",
        "Minutes asleep per night, dated by the wake-up day, one line per participant. "
        "Unit: minutes.",
    )
    points = [
        (d.user_id, d.summary_date, d.minutes_asleep)
        for d in data.daily
        if d.minutes_asleep is not None
    ]
    return _per_user_lines(chart, data, points, "minutes asleep", "no sleep")


def _per_user_lines(
    chart: Chart,
    data: ReportData,
    points: list[tuple[str, date, int]],
    y_title: str,
    what: str,
) -> Chart:
    if SUMMARY in data.missing:
        return _empty(chart, not_built(SUMMARY))
    if not points:
        return _empty(chart, f"{what} data from {data.period}")
    per_user: dict[str, dict[date, int]] = defaultdict(dict)
    for user, day, value in points:
        per_user[user][day] = value
    dates = data.period.dates()
    figure = go.Figure()
    for user in sorted(per_user):
        values = per_user[user]
        figure.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in dates],
                # a day without a value breaks the line rather than bridging it
                y=[values.get(d) for d in dates],
                connectgaps=False,
                mode="lines+markers",
                name=user,
                marker={"size": 4},
                hovertemplate=f"{user}<br>%{{x}}: %{{y:,}}<extra></extra>",
            )
        )
    _layout(figure, height=380, y_title=y_title, x_title="local date", period=data.period)
    return _filled(chart, figure)


def cohort_baseline(data: ReportData, rules: Rules) -> Chart:
    chart = Chart(
        "cohort-baseline",
        "The cohort against its own baselines",
        f"Each active day's steps as a percent of the participant's own baseline (the median "
        f"of their first {rules.step_baseline_days} days with steps). Top: the cohort's "
        "median and interquartile band (25th-75th percentile); 100% is a participant's "
        "normal. Bottom: the share of compared participants below "
        f"{BELOW_BASELINE_PCT}% of their baseline. Days within a participant's own baseline "
        "period are included and centre on 100% by construction. Units: % of the "
        "participant's baseline (top), % of the participants compared that day (bottom).",
    )
    if BASELINE in data.missing or USER_BASELINE in data.missing:
        return _empty(chart, not_built(BASELINE if BASELINE in data.missing else USER_BASELINE))
    if not data.baseline:
        if data.baseline_users == 0:
            return _empty(
                chart,
                f"no participant has {rules.step_baseline_days} days with steps yet, so no "
                "one has a baseline to compare with",
            )
        return _empty(chart, f"no active day of a participant with a baseline from {data.period}")
    per_day: dict[date, list[float]] = defaultdict(list)
    for day in data.baseline:
        per_day[day.summary_date].append(float(day.pct_of_baseline))
    days = sorted(per_day)
    x = [d.isoformat() for d in days]
    medians, lower, upper, below, counts = [], [], [], [], []
    for day in days:
        values = sorted(per_day[day])
        q1, q2, q3 = _quartiles(values)
        medians.append(q2)
        lower.append(q1)
        upper.append(q3)
        below.append(100 * sum(v < BELOW_BASELINE_PCT for v in values) / len(values))
        counts.append(len(values))
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.08
    )
    band = "rgba(31, 119, 180, 0.18)"
    figure.add_trace(
        go.Scatter(
            x=x, y=upper, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=lower,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=band,
            name="25th-75th percentile",
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=medians,
            mode="lines+markers",
            name="median",
            line={"color": "#1f77b4", "width": 2},
            customdata=list(zip(lower, upper, counts, strict=True)),
            hovertemplate="%{x}<br>median %{y:.0f}% of baseline"
            "<br>IQR %{customdata[0]:.0f}-%{customdata[1]:.0f}%"
            "<br>%{customdata[2]} participants<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_hline(y=100, line={"dash": "dot", "color": "#555"}, row=1, col=1)
    figure.add_hline(y=BELOW_BASELINE_PCT, line={"dash": "dash", "color": "#d62728"}, row=1, col=1)
    figure.add_trace(
        go.Bar(
            x=x,
            y=below,
            name=f"below {BELOW_BASELINE_PCT}% of baseline",
            marker={"color": "#d62728"},
            width=_BAR_WIDTH_MS,
            customdata=counts,
            hovertemplate="%{x}<br>%{y:.0f}% of %{customdata} participants<extra></extra>",
        ),
        row=2,
        col=1,
    )
    _layout(figure, height=460, period=data.period)
    figure.update_yaxes(title_text="% of baseline", row=1, col=1)
    figure.update_yaxes(title_text="% of participants", range=[0, 100], row=2, col=1)
    figure.update_xaxes(title_text="local date", row=2, col=1)
    return _filled(chart, figure)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    """25th, 50th and 75th percentiles (linear interpolation, as PostgreSQL's
    percentile_cont); one value is all three."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def source_volume(data: ReportData, rules: Rules) -> Chart:
    chart = Chart(
        "source-volume",
        "Data volume per source",
        "Records per day for each source, by the date they describe. Unit: records, at "
        "each source's own grain - user-days for daily and sleep files, hours for hourly "
        "files, minutes for minute files, samples for heart rate, logs for weight, events "
        "for analytics events. Dotted: the median of the previous "
        f"{rules.volume_window_days} days. Red crosses: anomalies - further from that "
        f"median than {rules.volume_threshold:.0%} of it and than "
        f"{rules.volume_mad_multiplier:g} robust standard deviations of those days "
        "(so a source that always swings is judged against its own swing), judged once "
        f"a source has {rules.volume_window_days} days of history and a median of at "
        f"least {rules.volume_min_median_rows} records.",
    )
    if VOLUME in data.missing:
        return _empty(chart, not_built(VOLUME))
    if not data.volume:
        return _empty(chart, f"no source has records from {data.period}")
    per_source: dict[str, list[VolumeDay]] = defaultdict(list)
    for day in data.volume:
        per_source[day.source_format].append(day)
    sources = sorted(per_source)
    titles = [_volume_title(source, per_source[source]) for source in sources]
    figure = make_subplots(
        rows=len(sources),
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=min(0.06, 0.35 / len(sources)),
    )
    anomaly_in_legend = False
    for index, source in enumerate(sources, start=1):
        days = per_source[source]
        flagged = [d for d in days if d.is_anomaly]
        x = [d.volume_date.isoformat() for d in days]
        first = index == 1
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[d.source_rows for d in days],
                mode="lines+markers",
                name="records",
                legendgroup="records",
                showlegend=first,
                line={"color": "#1f77b4"},
                marker={"size": 4},
                customdata=[d.users for d in days],
                hovertemplate=f"{source}<br>%{{x}}: %{{y:,}} records from %{{customdata}} "
                "participants<extra></extra>",
            ),
            row=index,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[
                    float(d.trailing_median_rows) if d.trailing_median_rows is not None else None
                    for d in days
                ],
                mode="lines",
                name=f"median of previous {rules.volume_window_days} days",
                legendgroup="median",
                showlegend=first,
                line={"color": "#7f7f7f", "dash": "dot"},
                hovertemplate="%{x}: median %{y:,.1f}<extra></extra>",
            ),
            row=index,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=[d.volume_date.isoformat() for d in flagged],
                y=[d.source_rows for d in flagged],
                mode="markers",
                name="anomaly",
                legendgroup="anomaly",
                showlegend=bool(flagged) and not anomaly_in_legend,
                marker={"color": "#d62728", "symbol": "x", "size": 11},
                cliponaxis=False,
                customdata=[float(d.deviation_pct or 0) for d in flagged],
                hovertemplate=f"{source}<br>%{{x}}: %{{y:,}} records, "
                "%{customdata:+.0f}% off the median<extra></extra>",
            ),
            row=index,
            col=1,
        )
        anomaly_in_legend = anomaly_in_legend or bool(flagged)
        figure.update_yaxes(rangemode="tozero", row=index, col=1)
    _layout(figure, height=120 + 130 * len(sources), period=data.period)
    figure.update_xaxes(title_text="local date", row=len(sources), col=1)
    return _filled(chart, figure)


def _volume_title(source: str, days: list[VolumeDay]) -> str:
    flagged = sum(day.is_anomaly for day in days)
    return f"{source}: {flagged} {'anomaly' if flagged == 1 else 'anomalies'}"


def files_per_day(data: ReportData) -> Chart:
    chart = Chart(
        "files-per-day",
        "Files per day, by outcome",
        "CSV files seen by `wearable ingest` per arrival day (UTC), stacked by outcome: "
        "loaded, skipped (already loaded), unrecognised (no known format), rejected "
        "(unusable) or failed. Rows that did not parse are in raw.rejected_rows; the hover "
        "shows them. Unit: files.",
    )
    window = f"{data.arrivals_start.isoformat()} to {data.arrivals_end.isoformat()}"
    if not data.files:
        return _empty(chart, f"no file arrived from {window} (UTC)")
    statuses = [s for s in _STATUS_COLOURS if any(f.status == s for f in data.files)]
    statuses += sorted({f.status for f in data.files} - set(statuses))
    figure = go.Figure()
    for status in statuses:
        rows = [f for f in data.files if f.status == status]
        figure.add_trace(
            go.Bar(
                x=[f.arrival_date.isoformat() for f in rows],
                y=[f.files for f in rows],
                name=status,
                marker={"color": _STATUS_COLOURS.get(status, "#8c564b")},
                width=_BAR_WIDTH_MS,
                customdata=[[f.rows_loaded, f.rows_rejected] for f in rows],
                hovertemplate=f"%{{x}}: %{{y}} {status} files<br>%{{customdata[0]:,}} rows "
                "loaded, %{customdata[1]:,} rejected<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack")
    _layout(figure, height=320, y_title="files", x_title="arrival date (UTC)")
    _arrival_axis(figure, data)
    return _filled(chart, figure)


def events_per_day(data: ReportData) -> Chart:
    chart = Chart(
        "events-per-day",
        "Events per day, by outcome",
        "Analytics events the API received per arrival day (UTC), stacked: accepted, "
        "deduplicated (an event id already stored) and rejected (kept in "
        "raw.rejected_events). Unit: events.",
    )
    window = f"{data.arrivals_start.isoformat()} to {data.arrivals_end.isoformat()}"
    if not data.events:
        return _empty(chart, f"the event API received no request from {window} (UTC)")
    figure = go.Figure()
    x = [e.arrival_date.isoformat() for e in data.events]
    for outcome, colour in _EVENT_COLOURS.items():
        figure.add_trace(
            go.Bar(
                x=x,
                y=[getattr(e, outcome) for e in data.events],
                name=outcome,
                marker={"color": colour},
                width=_BAR_WIDTH_MS,
                hovertemplate=f"%{{x}}: %{{y:,}} {outcome}<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack")
    _layout(figure, height=320, y_title="events", x_title="arrival date (UTC)")
    _arrival_axis(figure, data)
    return _filled(chart, figure)


def _arrival_axis(figure: go.Figure, data: ReportData) -> None:
    """The whole arrival window on the axis, so days without arrivals show as gaps."""
    _date_axis(figure, data.arrivals_start, data.arrivals_end)


def _date_axis(figure: go.Figure, first: date, last: date) -> None:
    """A date axis from `first` to `last` whatever the data covers, half a day of margin
    either side so the first and last bars show whole."""
    half_day = timedelta(hours=12)
    figure.update_xaxes(
        type="date",
        range=[
            (datetime.combine(first, datetime.min.time()) - half_day).isoformat(),
            (datetime.combine(last, datetime.min.time()) + half_day).isoformat(),
        ],
    )


def _layout(
    figure: go.Figure,
    *,
    height: int,
    y_title: str | None = None,
    x_title: str | None = None,
    period: Period | None = None,
) -> None:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 20, "t": 40, "b": 50},
        font={"family": _FONT, "size": 12},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        hovermode="closest",
    )
    if y_title:
        figure.update_yaxes(title_text=y_title)
    if x_title:
        figure.update_xaxes(title_text=x_title)
    if period is not None:
        _date_axis(figure, period.start, period.end)


def _empty(chart: Chart, reason: str) -> Chart:
    return Chart(chart.chart_id, chart.title, chart.caption, None, reason)


def _filled(chart: Chart, figure: go.Figure) -> Chart:
    return Chart(chart.chart_id, chart.title, chart.caption, figure, None)
