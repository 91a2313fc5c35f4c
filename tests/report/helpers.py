"""Reading the generated files back, to check the marts against what was written."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime
from pathlib import Path

# The report's charts, by element id, in page order
CHARTS = [
    "wear-heatmap",
    "steps-per-user",
    "asleep-per-user",
    "cohort-baseline",
    "source-volume",
    "files-per-day",
    "events-per-day",
]


def fitbit_date(text: str) -> date:
    """The date of a Fitbit value: `1/15/2024` or `1/15/2024 7:21:35 AM`."""
    return datetime.strptime(text.split(" ")[0], "%m/%d/%Y").date()


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def lines_per_date(path: Path, date_column: str) -> Counter[date]:
    """Data lines of a Fitbit file per date."""
    return Counter(fitbit_date(row[date_column]) for row in rows_of(path))


def daily_steps(path: Path) -> dict[str, dict[date, int]]:
    """Per user and date, TotalSteps of a Fitbit dailyActivity file."""
    steps: dict[str, dict[date, int]] = {}
    for row in rows_of(path):
        steps.setdefault(row["Id"], {})[fitbit_date(row["ActivityDate"])] = int(row["TotalSteps"])
    return steps
