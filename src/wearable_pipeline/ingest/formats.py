"""The registry of source formats: how a CSV file is recognised and where its rows land.

A format is data, not code (the dlt idea): its header signature, the raw table it loads into,
its user-id column (or none, for single-user exports) and its required columns. The loader is
generic; adding a vendor means adding one `SourceFormat` here, one staging model in dbt and one
line in its entity's union (docs/formats.md walks through an example). The Fitbit and
canonical formats are here, the other vendors' in vendor_formats.py.

Recognition is by header: a file whose header contains a format's `signature` columns is that
format; it must then also have every `required` column, or it is rejected with the list of
what is missing. Only where a header alone is ambiguous (Withings writes every
`aggregates_*.csv` as `date,value`) does a format also name a file-name pattern.

Some exports are known and not CSV (Apple Health's export.xml): they are reported as not
supported, with a message saying so, instead of being read as a CSV that matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wearable_pipeline.ingest.source_format import SourceFormat
from wearable_pipeline.ingest.vendor_formats import VENDOR_FORMATS

__all__ = [
    "FORMATS",
    "UNSUPPORTED_EXPORTS",
    "HeaderMatch",
    "SourceFormat",
    "UnsupportedExport",
    "describe_formats",
    "detect_format",
    "formats_by_table",
    "get_format",
    "is_unsupported_export_name",
    "match_header",
    "unsupported_export",
]


# --- Fitbit (Fitabase) --------------------------------------------------------------------------
# Every file of a study's export (DESIGN.md §4, "The whole Fitbit export"). All carry the user
# in `Id` and local wall-clock times without an offset ("4/12/2016 1:05:00 PM").

FITBIT_DAILY_ACTIVITY_COLUMNS = (
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
FITBIT_SLEEP_DAY_COLUMNS = (
    "Id",
    "SleepDay",
    "TotalSleepRecords",
    "TotalMinutesAsleep",
    "TotalTimeInBed",
)
FITBIT_DAILY_CALORIES_COLUMNS = ("Id", "ActivityDay", "Calories")
FITBIT_DAILY_INTENSITIES_COLUMNS = (
    "Id",
    "ActivityDay",
    "SedentaryMinutes",
    "LightlyActiveMinutes",
    "FairlyActiveMinutes",
    "VeryActiveMinutes",
    "SedentaryActiveDistance",
    "LightActiveDistance",
    "ModeratelyActiveDistance",
    "VeryActiveDistance",
)
FITBIT_DAILY_STEPS_COLUMNS = ("Id", "ActivityDay", "StepTotal")
FITBIT_HOURLY_STEPS_COLUMNS = ("Id", "ActivityHour", "StepTotal")
FITBIT_HOURLY_CALORIES_COLUMNS = ("Id", "ActivityHour", "Calories")
FITBIT_HOURLY_INTENSITIES_COLUMNS = ("Id", "ActivityHour", "TotalIntensity", "AverageIntensity")
FITBIT_MINUTE_STEPS_COLUMNS = ("Id", "ActivityMinute", "Steps")
FITBIT_MINUTE_CALORIES_COLUMNS = ("Id", "ActivityMinute", "Calories")
FITBIT_MINUTE_INTENSITIES_COLUMNS = ("Id", "ActivityMinute", "Intensity")
FITBIT_MINUTE_METS_COLUMNS = ("Id", "ActivityMinute", "METs")
FITBIT_MINUTE_SLEEP_COLUMNS = ("Id", "date", "value", "logId")
FITBIT_HEARTRATE_SECONDS_COLUMNS = ("Id", "Time", "Value")
FITBIT_WEIGHT_LOG_COLUMNS = (
    "Id",
    "Date",
    "WeightKg",
    "WeightPounds",
    "Fat",
    "BMI",
    "IsManualReport",
    "LogId",
)


def fitbit_wide_minute_columns(measure: str) -> tuple[str, ...]:
    """A wide minute file's header: `Id, ActivityHour, <measure>00 … <measure>59`."""
    return ("Id", "ActivityHour", *(f"{measure}{minute:02d}" for minute in range(60)))


def _fitbit(
    name: str,
    columns: tuple[str, ...],
    signature: tuple[str, ...],
    description: str,
    *,
    target_table: str | None = None,
    required: tuple[str, ...] | None = None,
) -> SourceFormat:
    """A Fitabase file: user in `Id`, its own raw table `raw.<name>` unless said otherwise."""
    return SourceFormat(
        name=name,
        target_table=target_table or name,
        signature=signature,
        required=required or columns,
        columns=columns,
        user_id_column="Id",
        description=description,
        vendor="fitbit",
    )


FITBIT_FORMATS: tuple[SourceFormat, ...] = (
    _fitbit(
        "fitbit_daily_activity",
        FITBIT_DAILY_ACTIVITY_COLUMNS,
        ("Id", "ActivityDate", "TotalSteps"),
        "Fitbit dailyActivity_merged.csv: user-day steps, km, intensity minutes, kcal",
        # The seed's promise: Fitbit and canonical daily activity share raw.daily_activity.
        target_table="daily_activity",
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
    ),
    _fitbit(
        "fitbit_sleep_day",
        FITBIT_SLEEP_DAY_COLUMNS,
        ("Id", "SleepDay"),
        'Fitbit sleepDay_merged.csv: user-day minutes asleep and in bed ("4/12/2016 12:00:00 AM")',
        target_table="sleep",
    ),
    _fitbit(
        "fitbit_daily_calories",
        FITBIT_DAILY_CALORIES_COLUMNS,
        ("Id", "ActivityDay", "Calories"),
        "Fitbit dailyCalories_merged.csv: user-day kcal",
    ),
    _fitbit(
        "fitbit_daily_intensities",
        FITBIT_DAILY_INTENSITIES_COLUMNS,
        ("Id", "ActivityDay", "SedentaryMinutes"),
        "Fitbit dailyIntensities_merged.csv: user-day intensity minutes and km",
    ),
    _fitbit(
        "fitbit_daily_steps",
        FITBIT_DAILY_STEPS_COLUMNS,
        ("Id", "ActivityDay", "StepTotal"),
        "Fitbit dailySteps_merged.csv: user-day steps",
    ),
    _fitbit(
        "fitbit_hourly_steps",
        FITBIT_HOURLY_STEPS_COLUMNS,
        ("Id", "ActivityHour", "StepTotal"),
        "Fitbit hourlySteps_merged.csv: user-hour steps",
    ),
    _fitbit(
        "fitbit_hourly_calories",
        FITBIT_HOURLY_CALORIES_COLUMNS,
        ("Id", "ActivityHour", "Calories"),
        "Fitbit hourlyCalories_merged.csv: user-hour kcal",
    ),
    _fitbit(
        "fitbit_hourly_intensities",
        FITBIT_HOURLY_INTENSITIES_COLUMNS,
        ("Id", "ActivityHour", "TotalIntensity"),
        "Fitbit hourlyIntensities_merged.csv: user-hour intensity (sum and mean of 0-3)",
    ),
    _fitbit(
        "fitbit_minute_steps",
        FITBIT_MINUTE_STEPS_COLUMNS,
        ("Id", "ActivityMinute", "Steps"),
        "Fitbit minuteStepsNarrow_merged.csv: user-minute steps",
    ),
    _fitbit(
        "fitbit_minute_calories",
        FITBIT_MINUTE_CALORIES_COLUMNS,
        ("Id", "ActivityMinute", "Calories"),
        "Fitbit minuteCaloriesNarrow_merged.csv: user-minute kcal",
    ),
    _fitbit(
        "fitbit_minute_intensities",
        FITBIT_MINUTE_INTENSITIES_COLUMNS,
        ("Id", "ActivityMinute", "Intensity"),
        "Fitbit minuteIntensitiesNarrow_merged.csv: user-minute intensity 0-3",
    ),
    _fitbit(
        "fitbit_minute_mets",
        FITBIT_MINUTE_METS_COLUMNS,
        ("Id", "ActivityMinute", "METs"),
        "Fitbit minuteMETsNarrow_merged.csv: user-minute METs in tenths (10 = 1.0 MET)",
    ),
    _fitbit(
        "fitbit_minute_steps_wide",
        fitbit_wide_minute_columns("Steps"),
        ("Id", "ActivityHour", "Steps00"),
        "Fitbit minuteStepsWide_merged.csv: user-hour, steps per minute in Steps00-Steps59",
    ),
    _fitbit(
        "fitbit_minute_calories_wide",
        fitbit_wide_minute_columns("Calories"),
        ("Id", "ActivityHour", "Calories00"),
        "Fitbit minuteCaloriesWide_merged.csv: user-hour, kcal per minute in Calories00-59",
    ),
    _fitbit(
        "fitbit_minute_intensities_wide",
        fitbit_wide_minute_columns("Intensity"),
        ("Id", "ActivityHour", "Intensity00"),
        "Fitbit minuteIntensitiesWide_merged.csv: user-hour, intensity per minute in "
        "Intensity00-59",
    ),
    _fitbit(
        "fitbit_minute_sleep",
        FITBIT_MINUTE_SLEEP_COLUMNS,
        ("Id", "date", "value", "logId"),
        "Fitbit minuteSleep_merged.csv: user-minute sleep state (1 asleep, 2 restless, "
        "3 awake) per episode (logId)",
    ),
    _fitbit(
        "fitbit_heartrate_seconds",
        FITBIT_HEARTRATE_SECONDS_COLUMNS,
        ("Id", "Time", "Value"),
        "Fitbit heartrate_seconds_merged.csv: a heart-rate sample (bpm) every 5-15 s while worn",
    ),
    _fitbit(
        "fitbit_weight_log",
        FITBIT_WEIGHT_LOG_COLUMNS,
        ("Id", "Date", "WeightKg"),
        "Fitbit weightLogInfo_merged.csv: one weight log (kg, lb, fat %, BMI); key (Id, LogId)",
        required=("Id", "Date", "WeightKg", "LogId"),
    ),
)

# --- The project's own canonical formats -------------------------------------------------------
# Documented in docs/formats.md: already in the target units, one row per user per date.

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

CANONICAL_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        name="canonical_daily_activity",
        target_table="daily_activity",
        signature=("user_id", "date", "steps"),
        required=("user_id", "date", "steps"),
        columns=CANONICAL_DAILY_ACTIVITY_COLUMNS,
        user_id_column="user_id",
        description="canonical daily activity: user_id, date (YYYY-MM-DD), steps, distance_km, …",
        vendor="canonical",
    ),
    SourceFormat(
        name="canonical_sleep",
        target_table="sleep",
        signature=("user_id", "date", "minutes_asleep"),
        required=("user_id", "date", "minutes_asleep", "minutes_in_bed"),
        columns=CANONICAL_SLEEP_COLUMNS,
        user_id_column="user_id",
        description="canonical sleep: user_id, date (YYYY-MM-DD), minutes_asleep, minutes_in_bed",
        vendor="canonical",
    ),
)

FORMATS: tuple[SourceFormat, ...] = FITBIT_FORMATS + CANONICAL_FORMATS + VENDOR_FORMATS


def get_format(name: str) -> SourceFormat:
    """The registered format called `name`; KeyError names the known ones."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(f"no source format {name!r}; known: {', '.join(f.name for f in FORMATS)}")


def detect_format(
    header: list[str],
    formats: Sequence[SourceFormat] = FORMATS,
    file_name: str | None = None,
) -> SourceFormat | None:
    """The registered format whose signature the header carries, or None.

    When several match, the most specific wins: a format that also matched the file name,
    then the one with the largest signature.
    """
    candidates = [fmt for fmt in formats if fmt.matches(header, file_name)]
    if not candidates:
        return None
    return max(candidates, key=lambda fmt: fmt.specificity)


@dataclass(frozen=True)
class HeaderMatch:
    """A recognised file: its format, the line its header is on, and the header as written."""

    format: SourceFormat
    line_number: int
    header: list[str]


def match_header(
    candidates: dict[int, list[str]],
    formats: Sequence[SourceFormat] = FORMATS,
    file_name: str | None = None,
) -> HeaderMatch | None:
    """Recognise a file from its first lines (line number → fields) and its name.

    Each format is tried against the line its header is on (`header_line`), so a vendor
    that writes a metadata line first still matches on its real header; among several
    matches the most specific wins (see detect_format).
    """
    best: HeaderMatch | None = None
    for line_number in sorted({fmt.header_line for fmt in formats}):
        header = candidates.get(line_number)
        if header is None:
            continue
        on_this_line = [fmt for fmt in formats if fmt.header_line == line_number]
        fmt = detect_format(header, on_this_line, file_name)
        if fmt and (best is None or fmt.specificity > best.format.specificity):
            best = HeaderMatch(format=fmt, line_number=line_number, header=header)
    return best


def formats_by_table(formats: Sequence[SourceFormat] = FORMATS) -> dict[str, list[SourceFormat]]:
    """Registered formats grouped by their raw table."""
    grouped: dict[str, list[SourceFormat]] = {}
    for fmt in formats:
        grouped.setdefault(fmt.target_table, []).append(fmt)
    return grouped


def describe_formats(formats: Sequence[SourceFormat] = FORMATS) -> str:
    """One line per known format, for messages about unrecognised files (with the file-name
    pattern of the few formats that need one)."""
    return "; ".join(
        f"{fmt.name} ({', '.join(fmt.signature)}"
        + (f"; file {fmt.file_name_pattern}" if fmt.file_name_pattern else "")
        + ")"
        for fmt in formats
    )


@dataclass(frozen=True)
class UnsupportedExport:
    """An export people point ingest at that is not CSV, recognised to say so plainly.

    file_names: names a folder walk picks up to report (lower case; folders are otherwise
                walked for CSV files only).
    markers:    byte strings in the file's first KiB that identify it whatever its name.
    message:    what the report says; nothing of such a file is read beyond its first KiB.
    """

    name: str
    file_names: tuple[str, ...]
    markers: tuple[bytes, ...]
    message: str


UNSUPPORTED_EXPORTS: tuple[UnsupportedExport, ...] = (
    UnsupportedExport(
        name="apple_health_xml",
        file_names=("export.xml", "export_cda.xml"),
        markers=(b"<!DOCTYPE HealthData", b"<HealthData", b"<ClinicalDocument"),
        message=(
            "Apple Health XML export (export.xml) is not supported: wearable ingest reads "
            "CSV exports only; nothing of this file was loaded"
        ),
    ),
)
_SNIFF_BYTES = 1024
_BOM = "\ufeff".encode()


def is_unsupported_export_name(path: Path) -> bool:
    """Whether a folder walk should pick up `path` to report it as not supported."""
    name = path.name.lower()
    return any(name in export.file_names for export in UNSUPPORTED_EXPORTS)


def unsupported_export(path: Path) -> UnsupportedExport | None:
    """The known non-CSV export `path` is (by its first KiB), or None.

    Reads only the first KiB: an Apple Health export can be gigabytes, and nothing of it
    is loaded anyway. A file that cannot be read is None here (the loader reports it).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None
    if not head.removeprefix(_BOM).lstrip().startswith(b"<"):
        return None  # not XML: every CSV, including gzip, goes on to the loader
    for export in UNSUPPORTED_EXPORTS:
        if any(marker in head for marker in export.markers):
            return export
    return None
