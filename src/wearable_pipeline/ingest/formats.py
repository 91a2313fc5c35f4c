"""The registry of source formats: how a CSV file is recognised and where its rows land.

A format is data, not code (the dlt idea): its header signature, the raw table it loads into,
its user-id column (or none, for single-user exports) and its required columns. The loader is
generic; adding a vendor means adding one `SourceFormat` here and one mapping in dbt staging.

Recognition is by header only, never by file name: a file whose header contains a format's
`signature` columns is that format; it must then also have every `required` column, or it is
rejected with the list of what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wearable_pipeline.ingest.naming import sql_safe_name


@dataclass(frozen=True)
class SourceFormat:
    """One recognised CSV layout.

    name:          the `source_format` recorded on every raw row and in the manifest.
    target_table:  raw table (schema `raw`) the rows land in.
    signature:     header columns (as written in the file) that identify the format.
    required:      columns that must be present for the file to load (includes the signature).
    columns:       every column the format is known to have; the raw table is created with all
                   of them so dbt can select them before any file arrives.
    user_id_column: header column holding the user id, or None for single-user exports
                   (the user then comes from the file's folder or `--user-id`).
    description:   one line for `wearable formats` and the docs.
    header_line:   1-based line holding the header (a vendor may write metadata above it).
    """

    name: str
    target_table: str
    signature: tuple[str, ...]
    required: tuple[str, ...]
    columns: tuple[str, ...]
    user_id_column: str | None
    description: str
    header_line: int = 1
    _safe_signature: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_safe_signature", frozenset(map(sql_safe_name, self.signature)))

    def matches(self, safe_header: set[str]) -> bool:
        """Whether a header (as SQL-safe names) carries this format's signature."""
        return self._safe_signature <= safe_header

    def missing_required(self, safe_header: set[str]) -> list[str]:
        """Required columns (as written in the file) that the header lacks."""
        return [col for col in self.required if sql_safe_name(col) not in safe_header]

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.target_table}"


_FITBIT_DAILY_ACTIVITY_COLUMNS = (
    "Id",
    "ActivityDate",
    "TotalSteps",
    "TotalDistance",
    "TrackerDistance",
    "LoggedActivitiesDistance",
    "VeryActiveDistance",
    "ModeratelyActiveDistance",
    "LightActiveDistance",
    "SedentaryActiveDistance",
    "VeryActiveMinutes",
    "FairlyActiveMinutes",
    "LightlyActiveMinutes",
    "SedentaryMinutes",
    "Calories",
)

_FITBIT_SLEEP_DAY_COLUMNS = (
    "Id",
    "SleepDay",
    "TotalSleepRecords",
    "TotalMinutesAsleep",
    "TotalTimeInBed",
)

# The project's own documented canonical formats (docs/formats.md): already in the target
# units, one row per user per date.
CANONICAL_DAILY_ACTIVITY_COLUMNS = (
    "user_id",
    "date",
    "steps",
    "distance_km",
    "very_active_minutes",
    "moderately_active_minutes",
    "lightly_active_minutes",
    "sedentary_minutes",
    "calories_kcal",
)

CANONICAL_SLEEP_COLUMNS = (
    "user_id",
    "date",
    "minutes_asleep",
    "minutes_in_bed",
    "sleep_records",
)

FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        name="fitbit_daily_activity",
        target_table="daily_activity",
        signature=("Id", "ActivityDate", "TotalSteps"),
        required=(
            "Id",
            "ActivityDate",
            "TotalSteps",
            "TotalDistance",
            "VeryActiveMinutes",
            "FairlyActiveMinutes",
            "LightlyActiveMinutes",
            "SedentaryMinutes",
            "Calories",
        ),
        columns=_FITBIT_DAILY_ACTIVITY_COLUMNS,
        user_id_column="Id",
        description="Fitbit/Fitabase dailyActivity_merged.csv (M/D/YYYY dates, km, kcal)",
    ),
    SourceFormat(
        name="fitbit_sleep_day",
        target_table="sleep",
        signature=("Id", "SleepDay"),
        required=_FITBIT_SLEEP_DAY_COLUMNS,
        columns=_FITBIT_SLEEP_DAY_COLUMNS,
        user_id_column="Id",
        description='Fitbit/Fitabase sleepDay_merged.csv ("4/12/2016 12:00:00 AM" dates)',
    ),
    SourceFormat(
        name="canonical_daily_activity",
        target_table="daily_activity",
        signature=("user_id", "date", "steps"),
        required=("user_id", "date", "steps"),
        columns=CANONICAL_DAILY_ACTIVITY_COLUMNS,
        user_id_column="user_id",
        description="canonical daily activity: user_id, date (YYYY-MM-DD), steps, distance_km, …",
    ),
    SourceFormat(
        name="canonical_sleep",
        target_table="sleep",
        signature=("user_id", "date", "minutes_asleep"),
        required=("user_id", "date", "minutes_asleep", "minutes_in_bed"),
        columns=CANONICAL_SLEEP_COLUMNS,
        user_id_column="user_id",
        description="canonical sleep: user_id, date (YYYY-MM-DD), minutes_asleep, minutes_in_bed",
    ),
)


def detect_format(
    header: list[str], formats: Sequence[SourceFormat] = FORMATS
) -> SourceFormat | None:
    """The registered format whose signature the header carries, or None.

    When several match, the one with the largest signature wins (the most specific).
    """
    safe = {sql_safe_name(col) for col in header}
    candidates = [fmt for fmt in formats if fmt.matches(safe)]
    if not candidates:
        return None
    return max(candidates, key=lambda fmt: len(fmt.signature))


@dataclass(frozen=True)
class HeaderMatch:
    """A recognised file: its format, the line its header is on, and the header as written."""

    format: SourceFormat
    line_number: int
    header: list[str]


def match_header(
    candidates: dict[int, list[str]], formats: Sequence[SourceFormat] = FORMATS
) -> HeaderMatch | None:
    """Recognise a file from its first lines (line number → fields).

    Each format is tried against the line its header is on (`header_line`), so a vendor
    that writes a metadata line first still matches on its real header; among several
    matches the most specific signature wins.
    """
    best: HeaderMatch | None = None
    for line_number in sorted({fmt.header_line for fmt in formats}):
        header = candidates.get(line_number)
        if header is None:
            continue
        on_this_line = [fmt for fmt in formats if fmt.header_line == line_number]
        fmt = detect_format(header, on_this_line)
        if fmt and (best is None or len(fmt.signature) > len(best.format.signature)):
            best = HeaderMatch(format=fmt, line_number=line_number, header=header)
    return best


def formats_by_table(formats: Sequence[SourceFormat] = FORMATS) -> dict[str, list[SourceFormat]]:
    """Registered formats grouped by their raw table."""
    grouped: dict[str, list[SourceFormat]] = {}
    for fmt in formats:
        grouped.setdefault(fmt.target_table, []).append(fmt)
    return grouped


def describe_formats(formats: Sequence[SourceFormat] = FORMATS) -> str:
    """One line per known format, for messages about unrecognised files."""
    return "; ".join(f"{fmt.name} ({', '.join(fmt.signature)})" for fmt in formats)
