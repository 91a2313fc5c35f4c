"""What the report shows, read from the marts and the ingestion records.

One query per section, each returning typed rows (psycopg's `class_row`). A section whose
table does not exist yet (no dbt build on this database, or one by an older version) is
named in `ReportData.missing`, so its empty state can say so instead of failing the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg.rows import class_row

from wearable_pipeline.report.period import Period

SUMMARY = "marts.daily_user_summary"
COMPLIANCE = "marts.participant_compliance"
BASELINE = "marts.daily_steps_vs_baseline"
USER_BASELINE = "marts.user_step_baseline"
VOLUME = "marts.source_volume_daily"
MARTS = (SUMMARY, COMPLIANCE, BASELINE, USER_BASELINE, VOLUME)

Row = TypeVar("Row")


@dataclass(frozen=True)
class WearDay:
    user_id: str
    summary_date: date
    valid_hours: int
    wear_basis: str | None
    is_valid_day: bool


@dataclass(frozen=True)
class ComplianceRow:
    user_id: str
    first_data_date: date | None
    last_data_date: date | None
    days_with_data: int
    valid_days: int
    valid_day_share: Decimal | None
    as_of_date: date | None
    days_since_last_data: int | None
    days_with_data_in_period: int
    valid_days_in_period: int


@dataclass(frozen=True)
class DailyMetrics:
    user_id: str
    summary_date: date
    steps: int | None
    minutes_asleep: int | None


@dataclass(frozen=True)
class BaselineDay:
    user_id: str
    summary_date: date
    pct_of_baseline: Decimal


@dataclass(frozen=True)
class VolumeDay:
    source_format: str
    volume_date: date
    source_rows: int
    users: int
    trailing_median_rows: Decimal | None
    deviation_pct: Decimal | None
    is_anomaly: bool


@dataclass(frozen=True)
class FileArrivals:
    arrival_date: date
    status: str
    files: int
    rows_loaded: int
    rows_rejected: int


@dataclass(frozen=True)
class EventArrivals:
    arrival_date: date
    received: int
    accepted: int
    deduped: int
    rejected: int


@dataclass
class ReportData:
    """Everything one report shows; `missing` names the tables that do not exist yet."""

    period: Period
    arrivals_start: date
    arrivals_end: date
    missing: set[str] = field(default_factory=set)
    wear: list[WearDay] = field(default_factory=list)
    compliance: list[ComplianceRow] = field(default_factory=list)
    daily: list[DailyMetrics] = field(default_factory=list)
    baseline: list[BaselineDay] = field(default_factory=list)
    baseline_users: int = 0
    volume: list[VolumeDay] = field(default_factory=list)
    files: list[FileArrivals] = field(default_factory=list)
    events: list[EventArrivals] = field(default_factory=list)
    users_with_data: int = 0
    generated_at: datetime | None = None


def read_report_data(
    conn: psycopg.Connection, period: Period, *, arrivals_start: date, arrivals_end: date
) -> ReportData:
    """Read every section for `period` (data dates) and the arrivals between
    `arrivals_start` and `arrivals_end` (UTC dates the files and events came in)."""
    data = ReportData(period, arrivals_start, arrivals_end)
    data.missing = {name for name in MARTS if not _exists(conn, name)}
    bounds = {"start": period.start, "end": period.end}
    if SUMMARY not in data.missing:
        data.wear = _rows(conn, WearDay, _WEAR_SQL, bounds)
        data.daily = _rows(conn, DailyMetrics, _DAILY_SQL, bounds)
        data.users_with_data = len({day.user_id for day in data.wear})
    if COMPLIANCE not in data.missing and SUMMARY not in data.missing:
        data.compliance = _rows(conn, ComplianceRow, _COMPLIANCE_SQL, bounds)
    if BASELINE not in data.missing and USER_BASELINE not in data.missing:
        data.baseline = _rows(conn, BaselineDay, _BASELINE_SQL, bounds)
        row = conn.execute(_BASELINE_USERS_SQL).fetchone()
        data.baseline_users = int(row[0]) if row else 0
    if VOLUME not in data.missing:
        data.volume = _rows(conn, VolumeDay, _VOLUME_SQL, bounds)
    arrivals = {"start": arrivals_start, "end": arrivals_end}
    data.files = _rows(conn, FileArrivals, _FILES_SQL, arrivals)
    data.events = _rows(conn, EventArrivals, _EVENTS_SQL, arrivals)
    row = conn.execute("select now()").fetchone()
    data.generated_at = row[0] if row else None
    return data


def _exists(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("select to_regclass(%s)", [name]).fetchone()
    return bool(row and row[0] is not None)


def _rows(
    conn: psycopg.Connection, kind: type[Row], query: str, params: dict[str, Any]
) -> list[Row]:
    with conn.cursor(row_factory=class_row(kind)) as cursor:
        return cursor.execute(query, params).fetchall()  # type: ignore[arg-type]


_WEAR_SQL = """
    select user_id, summary_date, valid_hours, wear_basis, is_valid_day
    from marts.daily_user_summary
    where summary_date between %(start)s and %(end)s
      and has_device_data
    order by user_id, summary_date
"""

_DAILY_SQL = """
    select user_id, summary_date, steps, minutes_asleep
    from marts.daily_user_summary
    where summary_date between %(start)s and %(end)s
      and (steps is not null or minutes_asleep is not null)
    order by user_id, summary_date
"""

# Worst first: the lowest share of valid days, then the longest silence.
_COMPLIANCE_SQL = """
    with in_period as (
        select
            user_id,
            count(*) as days_with_data,
            count(*) filter (where is_valid_day) as valid_days
        from marts.daily_user_summary
        where summary_date between %(start)s and %(end)s
          and has_device_data
        group by user_id
    )
    select
        compliance.user_id,
        compliance.first_data_date,
        compliance.last_data_date,
        compliance.days_with_data,
        compliance.valid_days,
        compliance.valid_day_share,
        compliance.as_of_date,
        compliance.days_since_last_data,
        coalesce(in_period.days_with_data, 0)::int as days_with_data_in_period,
        coalesce(in_period.valid_days, 0)::int as valid_days_in_period
    from marts.participant_compliance as compliance
    left join in_period on in_period.user_id = compliance.user_id
    order by
        compliance.valid_day_share asc nulls first,
        compliance.days_since_last_data desc nulls first,
        compliance.user_id
"""

_BASELINE_SQL = """
    select user_id, summary_date, pct_of_baseline
    from marts.daily_steps_vs_baseline
    where summary_date between %(start)s and %(end)s
      and pct_of_baseline is not null
    order by summary_date, user_id
"""

_BASELINE_USERS_SQL = "select count(*) from marts.user_step_baseline where has_baseline"

_VOLUME_SQL = """
    select
        source_format, volume_date, source_rows, users, trailing_median_rows,
        deviation_pct, is_anomaly
    from marts.source_volume_daily
    where volume_date between %(start)s and %(end)s
    order by source_format, volume_date
"""

# Arrival days in UTC, so a report reads the same wherever it is made.
_FILES_SQL = """
    select
        (started_at at time zone 'UTC')::date as arrival_date,
        status,
        count(*)::int as files,
        coalesce(sum(rows_loaded), 0)::bigint as rows_loaded,
        coalesce(sum(rows_rejected), 0)::bigint as rows_rejected
    from ops.file_loads
    where (started_at at time zone 'UTC')::date between %(start)s and %(end)s
    group by 1, 2
    order by 1, 2
"""

_EVENTS_SQL = """
    select
        (received_at at time zone 'UTC')::date as arrival_date,
        coalesce(sum(received), 0)::bigint as received,
        coalesce(sum(accepted), 0)::bigint as accepted,
        coalesce(sum(deduped), 0)::bigint as deduped,
        coalesce(sum(rejected), 0)::bigint as rejected
    from ops.ingest_batches
    where (received_at at time zone 'UTC')::date between %(start)s and %(end)s
    group by 1
    order by 1
"""
