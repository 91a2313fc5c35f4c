"""Who the synthetic participants are: ids, the study period, and each person's habits.

The CSV generator and the event generator share the user ids and dates defined here, so events
join the activity and sleep rows of the same users and days downstream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

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


@dataclass(frozen=True)
class Person:
    """A participant's habits, drawn once so their days look like one person's.

    activity:        chance that an awake, worn minute is active (calibrated to base_steps).
    vigorous_share:  share of active minutes that are very active; moderate_share likewise.
    non_wear_rate:   chance a whole day goes without the tracker.
    charge_rate:     chance a worn day has a charging gap (30-90 minutes off the wrist).
    sleep_track_rate: chance a night is worn and tracked (0: never worn at night).
    sleep_log_rate:  chance a tracked night also gets a sleepDay row (else minuteSleep only).
    has_heart_rate:  the tracker records heart rate (else wear comes from steps/intensity).
    weight_every:    days between weight logs (0: never logs weight).
    """

    base_steps: float
    stride_km: float
    bmr: int
    activity: float
    vigorous_share: float
    moderate_share: float
    non_wear_rate: float
    charge_rate: float
    sleep_track_rate: float
    sleep_log_rate: float
    wake_minute: int
    bed_minute: int
    resting_bpm: float
    has_heart_rate: bool
    weight_every: int
    weight_kg: float
    height_m: float


# About how many awake minutes a worn day has, and steps in an active minute: to turn a
# person's daily step goal into a per-minute chance of being active.
_AWAKE_MINUTES = 900
_STEPS_PER_ACTIVE_MINUTE = 55


def draw_person(rng: random.Random) -> Person:
    base_steps = rng.uniform(2_500, 13_000)
    return Person(
        base_steps=base_steps,
        stride_km=rng.uniform(0.00062, 0.00080),
        bmr=rng.randint(1_350, 2_250),
        activity=base_steps / (_AWAKE_MINUTES * _STEPS_PER_ACTIVE_MINUTE),
        vigorous_share=rng.uniform(0.03, 0.15),
        moderate_share=rng.uniform(0.08, 0.25),
        non_wear_rate=rng.choice((0.0, 0.0, 0.02, 0.05, 0.12)),
        charge_rate=rng.uniform(0.2, 0.8),
        sleep_track_rate=0.0 if rng.random() < 0.25 else rng.uniform(0.5, 0.95),
        sleep_log_rate=rng.uniform(0.8, 1.0),
        wake_minute=rng.randint(6 * 60, 8 * 60),
        bed_minute=rng.randint(22 * 60, 23 * 60 + 30),
        resting_bpm=rng.uniform(52, 75),
        has_heart_rate=rng.random() < 0.8,
        weight_every=0 if rng.random() < 0.6 else rng.randint(2, 10),
        weight_kg=rng.uniform(50, 110),
        height_m=rng.uniform(1.55, 1.95),
    )
