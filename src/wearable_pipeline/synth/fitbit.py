"""A synthetic Fitbit (Fitabase) study export: every file, for any number of users and days.

The files have the real ones' headers (taken from the format registry, the one place they are
written down) and quirks: 10-digit ids, `M/D/YYYY` dates and `M/D/YYYY h:mm:ss AM` times,
CRLF line ends, float32-looking decimals, days the tracker was not worn (0 steps, 1,440
sedentary minutes, no heart rate), nights not tracked, naps, a few exact duplicate sleep rows,
users without heart rate, weight logs. They are internally consistent: minute steps, calories
and intensities add up to their hour and the hours to the day; sleepDay rows are the minute
sleep episodes attributed to their wake-up day (a few nights have minuteSleep rows only).

Files come in groups, so a benchmark can ask for a year of daily and hourly data without
writing billions of minute rows: `daily`, `hourly`, `minute` and `heartrate` (see FILES).
The same arguments give the same bytes, whichever groups are written.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO

from wearable_pipeline.ingest import formats
from wearable_pipeline.synth.days import DayPlan, Timeline, plan_day, plan_timeline
from wearable_pipeline.synth.minutes import (
    HeartRateSampler,
    MinuteDay,
    calories_per_minute,
    hour_mets,
    realise_day,
    sleep_states,
)
from wearable_pipeline.synth.people import Person, draw_person, synthetic_dates, synthetic_user_ids

GROUPS = ("daily", "hourly", "minute", "heartrate")
_CRLF = "\r\n"  # Fitabase exports end lines with CRLF
# Share of sleepDay rows written twice, like the exact duplicates in the real file.
_SLEEP_DUPLICATE_RATE = 0.004
_FLUSH_LINES = 50_000


@dataclass(frozen=True)
class FileSpec:
    """One file of the export: its Fitabase name, group and registered source format."""

    name: str
    group: str
    source_format: str

    @property
    def header(self) -> str:
        return ",".join(formats.get_format(self.source_format).columns)


FILES: tuple[FileSpec, ...] = (
    FileSpec("dailyActivity_merged.csv", "daily", "fitbit_daily_activity"),
    FileSpec("dailyCalories_merged.csv", "daily", "fitbit_daily_calories"),
    FileSpec("dailyIntensities_merged.csv", "daily", "fitbit_daily_intensities"),
    FileSpec("dailySteps_merged.csv", "daily", "fitbit_daily_steps"),
    FileSpec("sleepDay_merged.csv", "daily", "fitbit_sleep_day"),
    FileSpec("weightLogInfo_merged.csv", "daily", "fitbit_weight_log"),
    FileSpec("hourlySteps_merged.csv", "hourly", "fitbit_hourly_steps"),
    FileSpec("hourlyCalories_merged.csv", "hourly", "fitbit_hourly_calories"),
    FileSpec("hourlyIntensities_merged.csv", "hourly", "fitbit_hourly_intensities"),
    FileSpec("minuteStepsNarrow_merged.csv", "minute", "fitbit_minute_steps"),
    FileSpec("minuteCaloriesNarrow_merged.csv", "minute", "fitbit_minute_calories"),
    FileSpec("minuteIntensitiesNarrow_merged.csv", "minute", "fitbit_minute_intensities"),
    FileSpec("minuteMETsNarrow_merged.csv", "minute", "fitbit_minute_mets"),
    FileSpec("minuteStepsWide_merged.csv", "minute", "fitbit_minute_steps_wide"),
    FileSpec("minuteCaloriesWide_merged.csv", "minute", "fitbit_minute_calories_wide"),
    FileSpec("minuteIntensitiesWide_merged.csv", "minute", "fitbit_minute_intensities_wide"),
    FileSpec("minuteSleep_merged.csv", "minute", "fitbit_minute_sleep"),
    FileSpec("heartrate_seconds_merged.csv", "heartrate", "fitbit_heartrate_seconds"),
)


@dataclass(frozen=True)
class GeneratedFile:
    """A file the generator wrote: where, its source format and its data rows."""

    path: Path
    source_format: str
    rows: int


def generate_csv(
    out_dir: Path,
    *,
    users: int,
    days: int,
    seed: int,
    include: Collection[str] = GROUPS,
    progress: bool = False,
) -> list[Path]:
    """Write the export's files into `out_dir`; the paths (see `generate_csv_files`)."""
    written = generate_csv_files(
        out_dir, users=users, days=days, seed=seed, include=include, progress=progress
    )
    return [file.path for file in written]


def generate_csv_files(
    out_dir: Path,
    *,
    users: int,
    days: int,
    seed: int,
    include: Collection[str] = GROUPS,
    progress: bool = False,
) -> list[GeneratedFile]:
    """Write the files of the groups in `include` for `synthetic_user_ids(users, seed)` over
    `synthetic_dates(days)`, in FILES order; returns them with their data-row counts.

    Raises ValueError for fewer than one user or day, or an unknown group.
    """
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    unknown = set(include) - set(GROUPS)
    if unknown or not include:
        raise ValueError(
            f"unknown file group(s) {sorted(unknown)}; choose from {', '.join(GROUPS)}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = [spec for spec in FILES if spec.group in include]
    dates = synthetic_dates(days)
    with ExitStack() as stack:
        sinks = {
            spec.source_format: stack.enter_context(_Sink(out_dir / spec.name, spec.header))
            for spec in specs
        }
        advance = stack.enter_context(_progress(progress and users * days >= 20_000, users))
        writer = _ExportWriter(sinks, seed)
        for user in synthetic_user_ids(users, seed):
            writer.write_user(user, dates)
            advance()
    return [
        GeneratedFile(
            sinks[spec.source_format].path, spec.source_format, sinks[spec.source_format].rows
        )
        for spec in specs
    ]


class _Sink:
    """A CSV file being written: header, buffered CRLF lines, a row count."""

    def __init__(self, path: Path, header: str) -> None:
        self.path = path
        self.rows = 0
        self._header = header
        self._lines: list[str] = []
        self._handle: IO[str] | None = None

    def __enter__(self) -> _Sink:
        self._handle = open(self.path, "w", encoding="utf-8", newline="")
        self._handle.write(self._header + _CRLF)
        return self

    def add(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= _FLUSH_LINES:
            self.flush()

    def extend(self, lines: list[str]) -> None:
        self._lines.extend(lines)
        if len(self._lines) >= _FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        if self._lines and self._handle:
            self._handle.write(_CRLF.join(self._lines) + _CRLF)
            self.rows += len(self._lines)
            self._lines.clear()

    def __exit__(self, *exc: object) -> None:
        self.flush()
        if self._handle:
            self._handle.close()


def fitbit_float(value: float) -> str:
    """A decimal as Fitabase prints it: rounded to 2 places, stored as float32 and printed
    with 15 significant digits (`1.88` → `1.87999999523163`, `8.5` → `8.5`)."""
    if value == 0:
        return "0"
    return f"{struct.unpack('f', struct.pack('f', round(value, 2)))[0]:.15g}"


def fitbit_date(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def fitbit_time(day: date, minute_of_day: int, second: int = 0) -> str:
    """`4/12/2016 1:05:00 PM`: 12-hour clock, no leading zero on the month, day and hour."""
    hour, minute = divmod(minute_of_day, 60)
    half = "AM" if hour < 12 else "PM"
    return f"{fitbit_date(day)} {(hour % 12) or 12}:{minute:02d}:{second:02d} {half}"


@lru_cache(maxsize=4096)
def _hour_times(day: date) -> list[str]:
    """The day's 24 `ActivityHour` values (shared by every user of the day)."""
    return [fitbit_time(day, hour * 60) for hour in range(24)]


def _kcal(value: float) -> str:
    """A minute's kcal as Fitabase prints them (`0.7865`, `1.1124`)."""
    return f"{round(value, 4):g}"


class _ExportWriter:
    """Writes one user at a time into the open files (only the groups asked for)."""

    def __init__(self, sinks: dict[str, _Sink], seed: int) -> None:
        self.sinks = sinks
        self.seed = seed
        self.minute_level = any(
            name in sinks
            for name in (
                "fitbit_minute_steps",
                "fitbit_minute_calories",
                "fitbit_minute_intensities",
                "fitbit_minute_mets",
                "fitbit_minute_steps_wide",
                "fitbit_minute_calories_wide",
                "fitbit_minute_intensities_wide",
                "fitbit_heartrate_seconds",
            )
        )

    def _sink(self, source_format: str) -> _Sink | None:
        return self.sinks.get(source_format)

    def write_user(self, user: str, dates: list[date]) -> None:
        # One random stream per purpose: which files are written never changes the values.
        stream = f"fitbit-{self.seed}-{user}"
        person = draw_person(random.Random(f"{stream}-person"))
        timeline = plan_timeline(person, len(dates), random.Random(f"{stream}-timeline"))
        hours_rng = random.Random(f"{stream}-hours")
        minutes_rng = random.Random(f"{stream}-minutes")
        heart_rate = HeartRateSampler(person.resting_bpm, random.Random(f"{stream}-heart"))
        duplicates_rng = random.Random(f"{stream}-duplicates")
        # Minute sleep states only when a minute-level file needs them (the counts per
        # episode are known without them).
        states = (
            {e.log_id: sleep_states(e, stream) for e in timeline.episodes}
            if self.minute_level or "fitbit_minute_sleep" in self.sinks
            else {}
        )
        for index, day in enumerate(dates):
            plan = plan_day(person, timeline, index, hours_rng)
            hour_kcal = [calories_per_minute(person.bmr, hour_mets(plan, h)) for h in range(24)]
            self._daily(user, person, day, plan, hour_kcal, duplicates_rng)
            self._hourly(user, day, plan, hour_kcal)
            if self.minute_level:
                minutes = realise_day(plan, timeline, minutes_rng)
                self._minutes(user, person, day, minutes)
                if person.has_heart_rate:
                    self._heart_rate(user, day, index, minutes, timeline, states, heart_rate)
        self._minute_sleep(user, dates[0], timeline, states)
        self._weight(user, person, dates, random.Random(f"{stream}-weight"))

    # --- daily ------------------------------------------------------------------------------

    def _daily(
        self,
        user: str,
        person: Person,
        day: date,
        plan: DayPlan,
        hour_kcal: list[float],
        duplicates_rng: random.Random,
    ) -> None:
        text = fitbit_date(day)
        steps = plan.steps
        very_km = plan.total("very_steps") * person.stride_km
        moderate_km = plan.total("moderate_steps") * person.stride_km
        light_km = plan.total("light_steps") * person.stride_km
        total_km = very_km + moderate_km + light_km
        very, fairly, lightly = plan.total("very"), plan.total("moderate"), plan.total("light")
        sedentary = plan.sedentary
        calories = round(sum(hour_kcal))
        distances = [fitbit_float(km) for km in (very_km, moderate_km, light_km)]
        if sink := self._sink("fitbit_daily_activity"):
            total = fitbit_float(total_km)
            sink.add(
                f"{user},{text},{steps},{total},{total},0,{','.join(distances)},0,"
                f"{very},{fairly},{lightly},{sedentary},{calories}"
            )
        if sink := self._sink("fitbit_daily_calories"):
            sink.add(f"{user},{text},{calories}")
        if sink := self._sink("fitbit_daily_intensities"):
            sink.add(
                f"{user},{text},{sedentary},{lightly},{fairly},{very},0,"
                f"{distances[2]},{distances[1]},{distances[0]}"
            )
        if sink := self._sink("fitbit_daily_steps"):
            sink.add(f"{user},{text},{steps}")
        if (sink := self._sink("fitbit_sleep_day")) and plan.sleep_logged:
            asleep = sum(e.asleep for e in plan.episodes)
            in_bed = sum(e.minutes for e in plan.episodes)
            row = f"{user},{text} 12:00:00 AM,{len(plan.episodes)},{asleep},{in_bed}"
            sink.add(row)
            if duplicates_rng.random() < _SLEEP_DUPLICATE_RATE:
                sink.add(row)

    # --- hourly -----------------------------------------------------------------------------

    def _hourly(self, user: str, day: date, plan: DayPlan, hour_kcal: list[float]) -> None:
        steps = self._sink("fitbit_hourly_steps")
        calories = self._sink("fitbit_hourly_calories")
        intensities = self._sink("fitbit_hourly_intensities")
        if not (steps or calories or intensities):
            return
        times = _hour_times(day)
        if steps:
            steps.extend([f"{user},{t},{h.steps}" for t, h in zip(times, plan.hours, strict=True)])
        if calories:
            calories.extend(
                [f"{user},{t},{round(kcal)}" for t, kcal in zip(times, hour_kcal, strict=True)]
            )
        if intensities:
            intensities.extend(
                [
                    f"{user},{t},{h.total_intensity},{h.total_intensity / 60:.6g}"
                    for t, h in zip(times, plan.hours, strict=True)
                ]
            )

    # --- minute -----------------------------------------------------------------------------

    def _minutes(self, user: str, person: Person, day: date, minutes: MinuteDay) -> None:
        times = [fitbit_time(day, m) for m in range(1440)]
        kcal = [_kcal(calories_per_minute(person.bmr, mets)) for mets in minutes.mets]
        columns = {
            "fitbit_minute_steps": [str(v) for v in minutes.steps],
            "fitbit_minute_calories": kcal,
            "fitbit_minute_intensities": [str(v) for v in minutes.intensity],
            "fitbit_minute_mets": [str(v) for v in minutes.mets],
        }
        for source_format, values in columns.items():
            if sink := self._sink(source_format):
                sink.extend([f"{user},{t},{v}" for t, v in zip(times, values, strict=True)])
        for source_format, values in (
            ("fitbit_minute_steps_wide", columns["fitbit_minute_steps"]),
            ("fitbit_minute_calories_wide", kcal),
            ("fitbit_minute_intensities_wide", columns["fitbit_minute_intensities"]),
        ):
            if sink := self._sink(source_format):
                sink.extend(
                    [
                        f"{user},{times[h * 60]},{','.join(values[h * 60 : h * 60 + 60])}"
                        for h in range(24)
                    ]
                )

    def _minute_sleep(
        self, user: str, first_day: date, timeline: Timeline, states: dict[int, list[int]]
    ) -> None:
        """Every sleep episode, minute by minute, stamped at :30 like Fitabase's."""
        sink = self._sink("fitbit_minute_sleep")
        if not sink:
            return
        for episode in timeline.episodes:
            for offset, state in enumerate(states[episode.log_id]):
                absolute = episode.start + offset
                day = first_day + timedelta(days=absolute // 1440)
                sink.add(f"{user},{fitbit_time(day, absolute % 1440, 30)},{state},{episode.log_id}")

    # --- heart rate -------------------------------------------------------------------------

    def _heart_rate(
        self,
        user: str,
        day: date,
        index: int,
        minutes: MinuteDay,
        timeline: Timeline,
        states: dict[int, list[int]],
        sampler: HeartRateSampler,
    ) -> None:
        sink = self._sink("fitbit_heartrate_seconds")
        if not sink:
            return
        midnight = index * 1440
        state_of: dict[int, int] = {}
        for episode in timeline.episodes:
            if episode.end <= midnight or episode.start >= midnight + 1440:
                continue
            for offset, state in enumerate(states[episode.log_id]):
                minute = episode.start + offset - midnight
                if 0 <= minute < 1440:
                    state_of[minute] = state
        prefixes = [fitbit_time(day, m)[:-5] for m in range(1440)]  # up to "h:mm:"
        suffixes = [" AM" if m < 720 else " PM" for m in range(1440)]
        sink.extend(
            [
                f"{user},{prefixes[second // 60]}{second % 60:02d}{suffixes[second // 60]},{bpm}"
                for second, bpm in sampler.day(minutes, state_of)
            ]
        )

    # --- weight -----------------------------------------------------------------------------

    def _weight(self, user: str, person: Person, dates: list[date], rng: random.Random) -> None:
        sink = self._sink("fitbit_weight_log")
        if not sink or not person.weight_every:
            return
        weight = person.weight_kg
        for index in range(0, len(dates), person.weight_every):
            day = dates[index]
            weight += rng.gauss(0, 0.3)
            manual = rng.random() < 0.5
            minute, second = (
                (23 * 60 + 59, 59) if manual else (rng.randint(390, 480), rng.randint(0, 59))
            )
            logged = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                minutes=minute, seconds=second
            )
            fat = str(rng.randint(15, 35)) if rng.random() < 0.2 else ""
            sink.add(
                f"{user},{fitbit_time(day, minute, second)},{fitbit_float(weight)},"
                f"{weight * 2.20462262185:.15g},{fat},{fitbit_float(weight / person.height_m**2)},"
                f"{manual},{int(logged.timestamp() * 1000)}"
            )


@contextmanager
def _progress(enabled: bool, users: int) -> Iterator[Callable[[], None]]:
    """A progress bar over users for big outputs (on stderr), else a no-op."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task("generating CSV", total=users)
        yield lambda: bar.advance(task)
