"""The registry of source formats: how a CSV file is recognised and where its rows land.

A format is data, not code (the dlt idea): its header signature, the raw table it loads into,
its user-id column (or none, for single-user exports) and its required columns. The loader is
generic; adding a vendor means adding one `SourceFormat` here, one staging model in dbt and one
line in its entity's union (docs/formats.md walks through an example).

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
    vendor:        who writes the format; `name` is `<vendor>_<entity>`, and its dbt staging
                   model `stg_<vendor>__<entity>` (a test checks that every format has one).
    header_line:   1-based line holding the header (a vendor may write metadata above it).
    """

    name: str
    target_table: str
    signature: tuple[str, ...]
    required: tuple[str, ...]
    columns: tuple[str, ...]
    user_id_column: str | None
    description: str
    vendor: str
    header_line: int = 1
    _safe_signature: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_safe_signature", frozenset(map(sql_safe_name, self.signature)))
        if not self.name.startswith(f"{self.vendor}_"):
            raise ValueError(
                f"format {self.name!r} must be named <vendor>_<entity> ({self.vendor})"
            )

    def matches(self, safe_header: set[str]) -> bool:
        """Whether a header (as SQL-safe names) carries this format's signature."""
        return self._safe_signature <= safe_header

    def missing_required(self, safe_header: set[str]) -> list[str]:
        """Required columns (as written in the file) that the header lacks."""
        return [col for col in self.required if sql_safe_name(col) not in safe_header]

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.target_table}"

    @property
    def staging_model(self) -> str:
        """The dbt model that types this format's rows: `stg_<vendor>__<entity>`."""
        return f"stg_{self.vendor}__{self.name.removeprefix(self.vendor + '_')}"


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

FORMATS: tuple[SourceFormat, ...] = FITBIT_FORMATS + CANONICAL_FORMATS


def get_format(name: str) -> SourceFormat:
    """The registered format called `name`; KeyError names the known ones."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(f"no source format {name!r}; known: {', '.join(f.name for f in FORMATS)}")


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
