"""The single-user exports of six vendors: Google Fit, Oura, WHOOP, Samsung Health, Withings
and Garmin Connect (DESIGN.md §4 and its WHOOP appendix; docs/formats.md maps every column).

Each file layout is one `SourceFormat` with its own raw table `raw.<name>`. None carries a
user id: the user is the file's folder under the drop directory, or `--user-id`. Columns are
listed as the vendors write them; the raw tables use their SQL-safe names (docs/formats.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from wearable_pipeline.ingest.naming import sql_safe_name
from wearable_pipeline.ingest.source_format import SourceFormat


def translated(headers: Mapping[str, str]) -> dict[str, str]:
    """Header aliases from names as written: {"von": "from"} → SQL-safe {"von": "from"}."""
    return {sql_safe_name(alias): sql_safe_name(name) for alias, name in headers.items()}


def _single_user(
    name: str,
    vendor: str,
    columns: tuple[str, ...],
    signature: tuple[str, ...],
    description: str,
    *,
    required: tuple[str, ...] | None = None,
    **layout: object,
) -> SourceFormat:
    """A single-user export's format: its own raw table `raw.<name>`, no user-id column."""
    return SourceFormat(
        name=name,
        target_table=name,
        signature=signature,
        required=required or signature,
        columns=columns,
        user_id_column=None,
        description=description,
        vendor=vendor,
        **layout,  # type: ignore[arg-type]
    )


# --- Google Fit (Google Takeout: Fit/Daily activity metrics/Daily activity metrics.csv) ---------
# One row per day; the columns and their order vary between exports (one "<activity> duration
# (ms)" column per activity the user ever did), so only Date and Move Minutes are required.

GOOGLE_FIT_DAILY_COLUMNS = (
    "Date",
    "Move Minutes count",
    "Calories (kcal)",
    "Distance (m)",
    "Heart Points",
    "Heart Minutes",
    "Average heart rate (bpm)",
    "Max heart rate (bpm)",
    "Min heart rate (bpm)",
    "Low latitude (deg)",
    "Low longitude (deg)",
    "High latitude (deg)",
    "High longitude (deg)",
    "Average speed (m/s)",
    "Max speed (m/s)",
    "Min speed (m/s)",
    "Step count",
    "Average weight (kg)",
    "Max weight (kg)",
    "Min weight (kg)",
    "Inactive duration (ms)",
    "Walking duration (ms)",
    "Running duration (ms)",
)

GOOGLE_FIT_FORMATS = (
    _single_user(
        "google_fit_daily",
        "google_fit",
        GOOGLE_FIT_DAILY_COLUMNS,
        ("Date", "Move Minutes count"),
        "Google Fit Takeout 'Daily activity metrics.csv': per day steps, m, kcal, heart rate, "
        "weight (columns vary by export)",
    ),
)

# --- Oura (cloud.ouraring.com trends export: oura_<start>_<end>_trends.csv, or oura.csv) -------
# One row per day; durations in seconds; `None` means missing; "Total Bedtime " has a trailing
# space; rows are not always in date order.

OURA_TRENDS_COLUMNS = (
    "date",
    "Sleep Score",
    "Total Sleep Score",
    "REM Sleep Score",
    "Deep Sleep Score",
    "Sleep Efficiency Score",
    "Restfulness Score",
    "Sleep Latency Score",
    "Sleep Timin Score",
    "Total Sleep Duration",
    "Total Bedtime ",
    "Awake Time",
    "REM Sleep Duration",
    "Light Sleep Duration",
    "Deep Sleep Duration",
    "Restless Sleep",
    "Sleep Efficiency",
    "Sleep Latency",
    "Sleep Timing",
    "Bedtime Start",
    "Bedtime End",
    "Average Resting Heart Rate",
    "Lowest Resting Heart Rate",
    "Average HRV",
    "Temperature Deviation (°C)",
    "Temperature Trend Deviation",
    "Respiratory Rate",
    "Activity Score",
    "Stay Active Score",
    "Move Every Hour Score",
    "Meet Daily Targets Score",
    "Training Frequency Score",
    "Training Volume Score",
    "Activity Burn",
    "Total Burn",
    "Steps",
    "Equivalent Walking Distance",
    "Inactive Time",
    "Rest Time",
    "Low Activity Time",
    "Medium Activity Time",
    "High Activity Time",
    "Non-wear Time",
    "Average MET",
    "Long Periods of Inactivity",
    "Readiness Score",
    "Previous Night Score",
    "Sleep Balance Score",
    "Previous Day Activity Score",
    "Activity Balance Score",
    "Temperature Score",
    "Resting Heart Rate Score",
    "HRV Balance Score",
    "Recovery Index Score",
)

OURA_FORMATS = (
    _single_user(
        "oura_trends",
        "oura",
        OURA_TRENDS_COLUMNS,
        ("date", "Total Sleep Duration", "Readiness Score"),
        "Oura trends export (oura_*_trends.csv / oura.csv): per day sleep (s), steps, kcal, "
        "activity time (s), resting heart rate",
    ),
)

# --- WHOOP (app export: physiological_cycles.csv, sleeps.csv, workouts.csv) ---------------------
# Local times `YYYY-MM-DD HH:MM:SS` with the offset in `Cycle timezone` (`UTC-04:00`, which can
# change inside a file); newest rows first; the current cycle has no end time; cal means kcal.

WHOOP_SLEEP_COLUMNS = (
    "Sleep onset",
    "Wake onset",
    "Sleep performance %",
    "Respiratory rate (rpm)",
    "Asleep duration (min)",
    "In bed duration (min)",
    "Light sleep duration (min)",
    "Deep (SWS) duration (min)",
    "REM duration (min)",
    "Awake duration (min)",
    "Sleep need (min)",
    "Sleep debt (min)",
    "Sleep efficiency %",
    "Sleep consistency %",
)
WHOOP_CYCLES_COLUMNS = (
    "Cycle start time",
    "Cycle end time",
    "Cycle timezone",
    "Recovery score %",
    "Resting heart rate (bpm)",
    "Heart rate variability (ms)",
    "Skin temp (celsius)",
    "Blood oxygen %",
    "Day Strain",
    "Energy burned (cal)",
    "Max HR (bpm)",
    "Average HR (bpm)",
    *WHOOP_SLEEP_COLUMNS,
)
WHOOP_SLEEPS_COLUMNS = (
    "Cycle start time",
    "Cycle end time",
    "Cycle timezone",
    *WHOOP_SLEEP_COLUMNS,
    "Nap",
)
WHOOP_WORKOUTS_COLUMNS = (
    "Cycle start time",
    "Cycle end time",
    "Cycle timezone",
    "Workout start time",
    "Workout end time",
    "Duration (min)",
    "Activity name",
    "Activity Strain",
    "Energy burned (cal)",
    "Max HR (bpm)",
    "Average HR (bpm)",
    "HR Zone 1 %",
    "HR Zone 2 %",
    "HR Zone 3 %",
    "HR Zone 4 %",
    "HR Zone 5 %",
    "GPS enabled",
    "Distance (meters)",
    "Altitude gain (meters)",
    "Altitude change (meters)",
)

WHOOP_FORMATS = (
    _single_user(
        "whoop_cycles",
        "whoop",
        WHOOP_CYCLES_COLUMNS,
        ("Cycle start time", "Cycle timezone", "Recovery score %", "Day Strain"),
        "WHOOP physiological_cycles.csv: per cycle (sleep onset to sleep onset) resting and "
        "average heart rate, kcal, strain",
        required=("Cycle start time", "Cycle end time", "Cycle timezone", "Recovery score %"),
    ),
    _single_user(
        "whoop_sleeps",
        "whoop",
        WHOOP_SLEEPS_COLUMNS,
        ("Cycle start time", "Sleep onset", "Wake onset", "Nap"),
        "WHOOP sleeps.csv: one row per sleep or nap, durations in minutes",
        required=("Cycle timezone", "Sleep onset", "Wake onset", "Asleep duration (min)", "Nap"),
        # the appendix of DESIGN.md writes the flag's values into its name
        header_aliases=translated({"Nap (true/false)": "Nap"}),
    ),
    _single_user(
        "whoop_workouts",
        "whoop",
        WHOOP_WORKOUTS_COLUMNS,
        ("Workout start time", "Workout end time", "Activity name"),
        "WHOOP workouts.csv: one row per workout, minutes, kcal, heart rate, metres",
    ),
)

# --- Samsung Health ("Download personal data": com.samsung.shealth.*.csv; older: ...health.*)
# Line 1 is metadata (the data type, app version), the header is line 2. The newer files end
# every data row with a comma the header lacks, and prefix some columns with the data type.

SAMSUNG_STEP_DAILY_COLUMNS = (
    "binning_data",
    "update_time",
    "create_time",
    "source_pkg_name",
    "source_type",
    "count",
    "speed",
    "distance",
    "calorie",
    "deviceuuid",
    "pkg_name",
    "datauuid",
    "day_time",
)
_STEP = "com.samsung.health.step_count."
SAMSUNG_PEDOMETER_COLUMNS = (
    "duration",
    "version_code",
    "run_step",
    "walk_step",
    *(
        _STEP + column
        for column in (
            "start_time",
            "sample_position_type",
            "custom",
            "update_time",
            "create_time",
            "count",
            "speed",
            "distance",
            "calorie",
            "time_offset",
            "deviceuuid",
            "pkg_name",
            "end_time",
            "datauuid",
        )
    ),
)
_SLEEP = "com.samsung.health.sleep."
SAMSUNG_SLEEP_COLUMNS = (
    "total_sleep_time_weight",
    "original_efficiency",
    "mental_recovery",
    "wake_score",
    *(f"factor_{number:02d}" for number in range(1, 11)),
    "deep_score",
    "integrated_id",
    "latency_weight",
    "has_sleep_data",
    "bedtime_detection_delay",
    "sleep_efficiency_with_latency",
    "wakeup_time_detection_delay",
    "total_rem_duration",
    "combined_id",
    "nap_score",
    "sleep_type",
    "sleep_latency",
    "data_version",
    "latency_score",
    "deep_weight",
    "rem_weight",
    "physical_recovery",
    "original_wake_up_time",
    "movement_awakening",
    "is_integrated",
    "original_bed_time",
    "goal_bed_time",
    "quality",
    "extra_data",
    "wake_weight",
    "rem_score",
    "goal_wake_up_time",
    "sleep_cycle",
    "total_light_duration",
    "efficiency",
    "sleep_score",
    "sleep_duration",
    "stage_analyzed_type",
    "total_sleep_time_score",
    *(
        _SLEEP + column
        for column in (
            "create_sh_ver",
            "start_time",
            "custom",
            "modify_sh_ver",
            "update_time",
            "create_time",
            "client_data_id",
            "client_data_ver",
            "time_offset",
            "deviceuuid",
            "comment",
            "pkg_name",
            "end_time",
            "datauuid",
        )
    ),
)
SAMSUNG_LEGACY_SLEEP_COLUMNS = (
    "time_offset",
    "pkg_name",
    "start_time",
    "update_time",
    "datauuid",
    "create_time",
    "custom",
    "end_time",
    "comment",
    "deviceuuid",
)
SAMSUNG_EXERCISE_COLUMNS = (
    "time_offset",
    "max_rpm",
    "live_data",
    "mean_rpm",
    "distance",
    "max_caloricburn_rate",
    "additional",
    "altitude_gain",
    "deviceuuid",
    "duration",
    "update_time",
    "datauuid",
    "location_data",
    "decline_distance",
    "altitude_loss",
    "mean_caloricburn_rate",
    "incline_distance",
    "max_altitude",
    "max_cadence",
    "create_time",
    "mean_speed",
    "mean_heart_rate",
    "count_type",
    "custom",
    "end_time",
    "count",
    "min_altitude",
    "max_speed",
    "exercise_type",
    "pkg_name",
    "start_time",
    "max_power",
    "mean_power",
    "min_heart_rate",
    "calorie",
    "comment",
    "max_heart_rate",
    "exercise_custom_type",
    "mean_cadence",
)
# The newer files' rows end with a comma: one more field than the header, kept in this column.
SAMSUNG_TRAILING_COLUMN = "trailing_field"

SAMSUNG_FORMATS = (
    _single_user(
        "samsung_step_daily",
        "samsung",
        SAMSUNG_STEP_DAILY_COLUMNS,
        ("day_time", "count", "source_type", "binning_data"),
        "Samsung Health com.samsung.shealth.step_daily_trend.*.csv: steps, m, kcal per day "
        "and device (source_type -2: all devices merged)",
        required=("day_time", "count", "source_type", "binning_data", "update_time"),
        header_line=2,
        trailing_column=SAMSUNG_TRAILING_COLUMN,
    ),
    _single_user(
        "samsung_pedometer_step_count",
        "samsung",
        SAMSUNG_PEDOMETER_COLUMNS,
        (_STEP + "start_time", _STEP + "count"),
        "Samsung Health com.samsung.shealth.tracker.pedometer_step_count.*.csv: steps per "
        "interval (UTC) and device",
        required=(_STEP + "start_time", _STEP + "count", _STEP + "time_offset"),
        header_line=2,
        trailing_column=SAMSUNG_TRAILING_COLUMN,
    ),
    _single_user(
        "samsung_sleep",
        "samsung",
        SAMSUNG_SLEEP_COLUMNS,
        (_SLEEP + "start_time", _SLEEP + "end_time"),
        "Samsung Health com.samsung.shealth.sleep.*.csv: one row per sleep (UTC times and offset)",
        required=(_SLEEP + "start_time", _SLEEP + "end_time", _SLEEP + "time_offset"),
        header_line=2,
        trailing_column=SAMSUNG_TRAILING_COLUMN,
    ),
    _single_user(
        "samsung_legacy_sleep",
        "samsung",
        SAMSUNG_LEGACY_SLEEP_COLUMNS,
        ("start_time", "end_time", "time_offset"),
        "Samsung Health (older) com.samsung.health.sleep.*.csv: one row per sleep (local "
        "times, offset in ms); recognised by header and file name",
        header_line=2,
        # every older Samsung file has these generic columns: the name tells sleep apart
        file_name_pattern="com.samsung.health.sleep.*.csv",
    ),
    _single_user(
        "samsung_exercise",
        "samsung",
        SAMSUNG_EXERCISE_COLUMNS,
        ("exercise_type", "start_time", "end_time", "duration", "time_offset"),
        "Samsung Health (older) com.samsung.health.exercise.*.csv: one row per workout (local "
        "times, ms, m, kcal)",
        header_line=2,
    ),
)

# --- Withings (Health Mate "download my data": one folder of CSV files) -----------------------
# Times are ISO 8601 with an offset; a German-language account writes some headers in German.

WITHINGS_SLEEP_COLUMNS = (
    "from",
    "to",
    "light (s)",
    "deep (s)",
    "rem (s)",
    "awake (s)",
    "wake up",
    "Duration to sleep (s)",
    "Duration to wake up (s)",
    "Snoring (s)",
    "Snoring episodes",
    "Average heart rate",
    "Heart rate (min)",
    "Heart rate (max)",
    "Night events",
    "Notes",
)
WITHINGS_ACTIVITIES_COLUMNS = (
    "from",
    "to",
    "from (manual)",
    "to (manual)",
    "Timezone",
    "Activity type",
    "Data",
    "GPS",
    "Modified",
)
# A German-language account's headers (the rest of its headers are English).
WITHINGS_GERMAN = translated(
    {
        "von": "from",
        "bis": "to",
        "leicht (s)": "light (s)",
        "tief (s)": "deep (s)",
        "wach (s)": "awake (s)",
        "Aufwachen": "wake up",
    }
)
# aggregates_<metric>.csv: the same `date,value` header for every metric (see file_name_pattern).
WITHINGS_AGGREGATES = {
    "steps": "steps per day",
    "distance": "metres per day",
    "calories_earned": "active kcal per day",
    "calories_passive": "resting kcal per day",
    "elevation": "metres climbed per day",
}
# raw_tracker_<measure>.csv: one row per recording, its intervals as JSON arrays.
WITHINGS_TRACKER = {
    "steps": ("raw_tracker_steps*.csv", "steps per interval"),
    "sleep_state": ("raw_tracker_sleep-state*.csv", "sleep state (0-2) per interval"),
}

WITHINGS_FORMATS = (
    _single_user(
        "withings_sleep",
        "withings",
        WITHINGS_SLEEP_COLUMNS,
        ("from", "to", "light (s)", "deep (s)"),
        "Withings sleep.csv (English or German headers): one row per night, stages in seconds",
        required=("from", "to", "light (s)", "deep (s)", "rem (s)"),
        header_aliases=WITHINGS_GERMAN,
    ),
    _single_user(
        "withings_activities",
        "withings",
        WITHINGS_ACTIVITIES_COLUMNS,
        ("from", "to", "Activity type", "Data"),
        "Withings activities.csv (English or German headers): one row per workout, values "
        "in a JSON column",
        header_aliases=WITHINGS_GERMAN,
    ),
    *(
        _single_user(
            f"withings_aggregates_{metric}",
            "withings",
            ("date", "value"),
            ("date", "value"),
            f"Withings aggregates_{metric}.csv: {meaning}; recognised by header and file name",
            file_name_pattern=f"aggregates_{metric}*.csv",
        )
        for metric, meaning in WITHINGS_AGGREGATES.items()
    ),
    *(
        _single_user(
            f"withings_tracker_{measure}",
            "withings",
            ("start", "duration", "value"),
            ("start", "duration", "value"),
            f"Withings {pattern.removesuffix('*.csv')}.csv: {meaning}, JSON arrays per "
            "recording; recognised by header and file name",
            file_name_pattern=pattern,
        )
        for measure, (pattern, meaning) in WITHINGS_TRACKER.items()
    ),
)

# --- Garmin Connect (web: Activities → Export CSV) ----------------------------------------------
# One row per workout, newest first; the layout changed over the years, distances are in the
# account's display units (not named in the file), `--` is missing, thousands have commas.

GARMIN_ACTIVITIES_COLUMNS = (
    "Activity Type",
    "Date",
    "Favorite",
    "Title",
    "Distance",
    "Calories",
    "Time",
    "Avg HR",
    "Max HR",
    "Avg Run Cadence",
    "Max Run Cadence",
    "Avg Pace",
    "Best Pace",
    "Avg Speed",
    "Max Speed",
    "Total Ascent",
    "Total Descent",
    "Avg Stride Length",
    "Avg Vertical Ratio",
    "Avg Vertical Oscillation",
    "Training Stress Score®",
    "Grit",
    "Flow",
    "Dive Time",
    "Min Temp",
    "Surface Interval",
    "Decompression",
    "Best Lap Time",
    "Number of Laps",
    "Max Temp",
    "Moving Time",
    "Elapsed Time",
    "Min Elevation",
    "Max Elevation",
    "Steps",
)
# A Danish-language account's headers.
GARMIN_DANISH = translated(
    {
        "Aktivitetstype": "Activity Type",
        "Dato": "Date",
        "Favorit": "Favorite",
        "Titel": "Title",
        "Kalorier": "Calories",
        "Tid": "Time",
        "Gennemsnitlig puls": "Avg HR",
        "Maks. puls": "Max HR",
        "Gennemsnit kadence løb": "Avg Run Cadence",
        "Maksimum kadence løb": "Max Run Cadence",
        "Gennemsnitstempo": "Avg Pace",
        "Bedste tempo": "Best Pace",
        "Højdeforøgelse": "Total Ascent",
        "Højdereduktion": "Total Descent",
        "Gennemsnitlig skridtlængde": "Avg Stride Length",
        "Gennemsnitligt vertikalt forhold": "Avg Vertical Ratio",
        "Gennemsnitligt vertikalt udsving": "Avg Vertical Oscillation",
        "Hårdhed": "Grit",
        "Bundtid": "Dive Time",
        "Minimum temperatur": "Min Temp",
        "Overfladeinterval": "Surface Interval",
        "Dekompression": "Decompression",
        "Tid for bedste omgang": "Best Lap Time",
        "Antal løb": "Number of Laps",
        "Maksimum temperatur": "Max Temp",
    }
)

GARMIN_FORMATS = (
    _single_user(
        "garmin_activities",
        "garmin",
        GARMIN_ACTIVITIES_COLUMNS,
        ("Activity Type", "Date", "Title", "Distance", "Calories", "Time"),
        "Garmin Connect Activities.csv (English or Danish headers): one row per workout",
        header_aliases=GARMIN_DANISH,
    ),
)

VENDOR_FORMATS: tuple[SourceFormat, ...] = (
    GOOGLE_FIT_FORMATS
    + OURA_FORMATS
    + WHOOP_FORMATS
    + SAMSUNG_FORMATS
    + WITHINGS_FORMATS
    + GARMIN_FORMATS
)
