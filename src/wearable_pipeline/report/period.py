"""The days a report covers: chosen, or by default the last four weeks with device data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

# The default period: four weeks of data dates; the ingestion section: 30 arrival days.
DEFAULT_DAYS = 28
DEFAULT_ARRIVAL_DAYS = 30


class PeriodError(ValueError):
    """The chosen dates do not make a period (the message says which and why)."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise PeriodError(
                f"--from {self.start.isoformat()} is after --to {self.end.isoformat()}"
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def resolve_period(
    conn: psycopg.Connection, start: date | None, end: date | None, *, today: date | None = None
) -> Period:
    """The period to report on.

    `end` defaults to the last day with device data in marts.daily_user_summary (today when
    there is none, or no mart yet), `start` to `DEFAULT_DAYS` days up to `end`, but not
    before the first day with device data (when only `start` is given, `end` is
    `DEFAULT_DAYS` days after it). Raises PeriodError when `start` is after `end`.
    """
    if start is not None and end is None:
        return Period(start, start + timedelta(days=DEFAULT_DAYS - 1))
    first, last = _data_dates(conn)
    if end is None:
        end = last or today or date.today()
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
        if first is not None and first <= end:
            start = max(start, first)
    return Period(start, end)


def _data_dates(conn: psycopg.Connection) -> tuple[date | None, date | None]:
    """The first and last days with device data (None, None without data or mart)."""
    exists = conn.execute("select to_regclass('marts.daily_user_summary')").fetchone()
    if not exists or exists[0] is None:
        return None, None
    row = conn.execute(
        "select min(summary_date), max(summary_date)"
        " from marts.daily_user_summary where has_device_data"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)
