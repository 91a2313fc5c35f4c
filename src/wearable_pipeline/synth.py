"""Synthetic wearable data for demos, tests and benchmarks (no sample data is checked in).

The CSV generator and the event generator share the user ids and dates defined here, so events
join the activity and sleep rows of the same users and days downstream.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

# Fixed, so a seed alone decides the output (never "today").
SYNTHETIC_START_DATE = date(2024, 1, 1)


def synthetic_user_ids(users: int, seed: int) -> list[str]:
    """`users` distinct 10-digit ids (like Fitbit's), deterministic for `seed`."""
    rng = random.Random(f"user-ids-{seed}")
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < users:
        candidate = str(rng.randint(1_000_000_000, 9_999_999_999))
        if candidate not in seen:
            seen.add(candidate)
            ids.append(candidate)
    return ids


def synthetic_dates(days: int, start: date = SYNTHETIC_START_DATE) -> list[date]:
    """The `days` consecutive calendar dates the synthetic data covers."""
    return [start + timedelta(days=offset) for offset in range(days)]


# --- Fitbit-format CSV files ------------------------------------------------------------------

DAILY_ACTIVITY_FILE = "dailyActivity_merged.csv"
SLEEP_DAY_FILE = "sleepDay_merged.csv"

_DAILY_ACTIVITY_HEADER = (
    "Id,ActivityDate,TotalSteps,TotalDistance,TrackerDistance,LoggedActivitiesDistance,"
    "VeryActiveDistance,ModeratelyActiveDistance,LightActiveDistance,SedentaryActiveDistance,"
    "VeryActiveMinutes,FairlyActiveMinutes,LightlyActiveMinutes,SedentaryMinutes,Calories"
)
_SLEEP_DAY_HEADER = "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed"
_CRLF = "\r\n"  # Fitabase exports end lines with CRLF
# Share of sleep rows written twice, like the exact duplicates in the real sleepDay file.
_SLEEP_DUPLICATE_RATE = 0.004
_FLUSH_EVERY = 20_000


def _fitbit_float(value: float) -> str:
    """A distance as Fitabase prints it: a 2-decimal value stored as float32 and printed
    with 15 significant digits (`1.88` → `1.87999999523163`, `8.5` → `8.5`)."""
    if value == 0:
        return "0"
    return f"{struct.unpack('f', struct.pack('f', round(value, 2)))[0]:.15g}"


@dataclass(frozen=True)
class _Person:
    """A user's habits, drawn once so their days look like one person's."""

    base_steps: float
    stride_km: float
    bmr: int
    non_wear_rate: float
    sleep_log_rate: float  # 0 for people who never wear the tracker at night
    sleep_minutes: float


def _person(rng: random.Random) -> _Person:
    return _Person(
        base_steps=rng.uniform(2_500, 13_000),
        stride_km=rng.uniform(0.00062, 0.00080),
        bmr=rng.randint(1_350, 2_250),
        non_wear_rate=rng.choice((0.0, 0.0, 0.02, 0.05, 0.12)),
        sleep_log_rate=0.0 if rng.random() < 0.3 else rng.uniform(0.4, 0.95),
        sleep_minutes=rng.gauss(420, 35),
    )


def _activity_row(
    rng: random.Random, person: _Person, user: str, day: date, date_text: str, asleep: int
) -> str:
    if rng.random() < person.non_wear_rate:
        # Not worn: Fitbit still writes the day, with nothing but sedentary minutes and BMR.
        return f"{user},{date_text},0,0,0,0,0,0,0,0,0,0,0,1440,{person.bmr}"
    weekend = 0.85 if day.weekday() >= 5 else 1.0
    steps = int(person.base_steps * weekend * rng.lognormvariate(0, 0.35))
    distance = steps * person.stride_km
    very = min(int(steps / 1_000 * rng.uniform(0, 3.5)), 200)
    fairly = min(int(steps / 1_000 * rng.uniform(0, 2.0)), 120)
    lightly = max(0, int(rng.gauss(190, 60) * min(1.5, steps / 7_000 + 0.3)))
    sedentary = max(0, 1440 - asleep - very - fairly - lightly - rng.randint(0, 60))
    very_km = min(distance, very * rng.uniform(0.08, 0.12))
    moderate_km = min(distance - very_km, fairly * rng.uniform(0.05, 0.08))
    light_km = max(0.0, distance - very_km - moderate_km)
    logged_km = round(rng.uniform(1, 5), 2) if rng.random() < 0.03 else 0.0
    calories = int(person.bmr + steps * 0.045 + very * 6 + fairly * 3 + lightly * 1.2)
    total = _fitbit_float(distance)
    return (
        f"{user},{date_text},{steps},{total},{total},{_fitbit_float(logged_km)},"
        f"{_fitbit_float(very_km)},{_fitbit_float(moderate_km)},{_fitbit_float(light_km)},0,"
        f"{very},{fairly},{lightly},{sedentary},{calories}"
    )


def _sleep_rows(
    rng: random.Random, person: _Person, user: str, date_text: str
) -> tuple[list[str], int]:
    """The user's sleepDay rows for one night (none when not logged) and minutes asleep."""
    if rng.random() >= person.sleep_log_rate:
        return [], 0
    records = 1 if rng.random() < 0.9 else (2 if rng.random() < 0.9 else 3)
    asleep = max(60, int(rng.gauss(person.sleep_minutes, 60)))
    asleep += sum(rng.randint(20, 90) for _ in range(records - 1))  # naps
    in_bed = asleep + int(rng.expovariate(1 / 25)) + records * rng.randint(0, 10)
    row = f"{user},{date_text} 12:00:00 AM,{records},{asleep},{in_bed}"
    copies = 2 if rng.random() < _SLEEP_DUPLICATE_RATE else 1
    return [row] * copies, asleep


@dataclass(frozen=True)
class GeneratedFile:
    """A file `generate_csv_files` wrote: where, its source format and its data rows."""

    path: Path
    source_format: str
    rows: int


def generate_csv(
    out_dir: Path, *, users: int, days: int, seed: int, progress: bool = False
) -> list[Path]:
    """Write Fitbit-format `dailyActivity_merged.csv` and `sleepDay_merged.csv` into `out_dir`.

    The two paths; `generate_csv_files` does the same and also says how many rows each has.
    """
    written = generate_csv_files(out_dir, users=users, days=days, seed=seed, progress=progress)
    return [file.path for file in written]


def generate_csv_files(
    out_dir: Path, *, users: int, days: int, seed: int, progress: bool = False
) -> list[GeneratedFile]:
    """Write Fitbit-format `dailyActivity_merged.csv` and `sleepDay_merged.csv` into `out_dir`.

    One activity row per user per day (`users * days` rows) for `synthetic_user_ids(users,
    seed)` over `synthetic_dates(days)`, with the real files' quirks: M/D/YYYY dates,
    "M/D/YYYY 12:00:00 AM" sleep days, CRLF line ends, 10-digit ids, float32-looking
    distances, non-wear days (0 steps, 1,440 sedentary minutes), users who never log sleep,
    nights with naps, and a few exact duplicate sleep rows. The same arguments give the same
    bytes. Returns the two files with their row counts (header not counted).
    """
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    activity_path = out_dir / DAILY_ACTIVITY_FILE
    sleep_path = out_dir / SLEEP_DAY_FILE
    dates = synthetic_dates(days)
    date_texts = [f"{d.month}/{d.day}/{d.year}" for d in dates]
    with (
        open(activity_path, "w", encoding="utf-8", newline="") as activity,
        open(sleep_path, "w", encoding="utf-8", newline="") as sleep,
        _generation_progress(progress and users * days >= 100_000, users) as advance,
    ):
        activity.write(_DAILY_ACTIVITY_HEADER + _CRLF)
        sleep.write(_SLEEP_DAY_HEADER + _CRLF)
        activity_rows: list[str] = []
        sleep_rows: list[str] = []
        sleep_count = 0
        for user in synthetic_user_ids(users, seed):
            rng = random.Random(f"csv-{seed}-{user}")
            person = _person(rng)
            for day, date_text in zip(dates, date_texts, strict=True):
                nights, asleep = _sleep_rows(rng, person, user, date_text)
                sleep_rows.extend(nights)
                sleep_count += len(nights)
                activity_rows.append(_activity_row(rng, person, user, day, date_text, asleep))
            if len(activity_rows) >= _FLUSH_EVERY:
                activity.write(_CRLF.join(activity_rows) + _CRLF)
                activity_rows.clear()
            if len(sleep_rows) >= _FLUSH_EVERY:
                sleep.write(_CRLF.join(sleep_rows) + _CRLF)
                sleep_rows.clear()
            advance()
        if activity_rows:
            activity.write(_CRLF.join(activity_rows) + _CRLF)
        if sleep_rows:
            sleep.write(_CRLF.join(sleep_rows) + _CRLF)
    return [
        GeneratedFile(activity_path, "fitbit_daily_activity", users * days),
        GeneratedFile(sleep_path, "fitbit_sleep_day", sleep_count),
    ]


@contextmanager
def _generation_progress(enabled: bool, users: int) -> Iterator[Callable[[], None]]:
    """A progress bar over users for big outputs (on stderr), else a no-op."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task("generating CSV", total=users)
        yield lambda: bar.advance(task)
