"""Synthetic wearable data for demos, tests and benchmarks (no sample data is checked in).

The CSV generator and the event generator share the user ids and dates defined here, so events
join the activity and sleep rows of the same users and days downstream.
"""

from __future__ import annotations

import random
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
