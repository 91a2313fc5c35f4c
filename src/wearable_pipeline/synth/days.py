"""A synthetic person's study period, planned top-down: timeline → days → hours → minutes.

First a timeline in absolute minutes from the first midnight: when the tracker is on the wrist
and when the person sleeps (night episodes and the odd nap). Then each hour gets a plan: its
worn and sleep minutes, how many of its awake minutes are light, moderate or very active, and
the steps they carry. Daily and hourly files are written from the hour plans, so a year of a
thousand people needs no per-minute simulation. When minute-level files are wanted,
`minutes.realise_hour` spreads an hour's plan over its minutes with its own random stream:
minutes add up exactly to their hour, and hours to their day, whichever files a run writes.

An interval is `(start, end)` in absolute minutes, end excluded.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass, field

from wearable_pipeline.synth.people import Person

MINUTES_PER_DAY = 1440

# Relative activity over the day (index = hour): a morning, lunch and evening peak.
HOUR_PROFILE = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 1.4, 1.6, 1.1, 1.0, 1.1,
    1.5, 1.3, 1.0, 1.0, 1.1, 1.6, 1.8, 1.4, 1.0, 0.8, 0.5, 0.3,
)  # fmt: skip

# Step cadence ranges (steps per minute) of light, moderate and very active minutes.
CADENCE = ((20, 50), (70, 100), (110, 150))
# Night episodes: share of minutes restless (state 2) and awake (state 3).
_RESTLESS_SHARE = 0.05
_AWAKE_SHARE = 0.03
_NAP_RATE = 0.05

Interval = tuple[int, int]


def overlap(a: Interval, b: Interval) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


@dataclass(frozen=True)
class SleepEpisode:
    """One sleep log. Attributed to the day it ends on (the wake-up day, as Fitbit does)."""

    log_id: int
    start: int
    end: int
    restless: int
    awake: int

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def asleep(self) -> int:
        return self.minutes - self.restless - self.awake

    @property
    def day(self) -> int:
        return (self.end - 1) // MINUTES_PER_DAY


@dataclass
class HourPlan:
    """What one hour holds: worn and sleep-episode minutes, intensity minutes, their steps."""

    worn: int = 0
    in_episode: int = 0
    light: int = 0
    moderate: int = 0
    very: int = 0
    light_steps: int = 0
    moderate_steps: int = 0
    very_steps: int = 0

    @property
    def steps(self) -> int:
        return self.light_steps + self.moderate_steps + self.very_steps

    @property
    def active(self) -> int:
        return self.light + self.moderate + self.very

    @property
    def total_intensity(self) -> int:
        return self.light + 2 * self.moderate + 3 * self.very

    @property
    def sedentary_awake(self) -> int:
        """Worn, awake and not active."""
        return self.worn - self.in_episode - self.active


_TOTALLED = (
    "worn",
    "in_episode",
    "light",
    "moderate",
    "very",
    "light_steps",
    "moderate_steps",
    "very_steps",
)


@dataclass
class DayPlan:
    """One calendar day: index from the first day, whether worn, its 24 hour plans, and the
    sleep episodes attributed to it (the night ending this morning, naps)."""

    index: int
    worn: bool
    hours: list[HourPlan]
    episodes: list[SleepEpisode] = field(default_factory=list)
    sleep_logged: bool = False
    _totals: dict[str, int] = field(default_factory=dict, repr=False)

    def total(self, attribute: str) -> int:
        """The sum over the day's hours of an HourPlan field or property."""
        if not self._totals:
            sums = dict.fromkeys(_TOTALLED, 0)
            for hour in self.hours:
                for name in _TOTALLED:
                    sums[name] += getattr(hour, name)
            sums["steps"] = sums["light_steps"] + sums["moderate_steps"] + sums["very_steps"]
            sums["active"] = sums["light"] + sums["moderate"] + sums["very"]
            self._totals = sums
        return self._totals[attribute]

    @property
    def steps(self) -> int:
        return self.total("steps")

    @property
    def sedentary(self) -> int:
        """Fitbit's sedentary minutes: every minute that is neither active nor in a sleep
        episode (an unworn day is 1,440 sedentary minutes)."""
        return MINUTES_PER_DAY - self.total("active") - self.total("in_episode")


@dataclass
class Timeline:
    """When the tracker is worn and when the person sleeps, in absolute minutes."""

    worn_days: list[bool]
    worn: list[Interval]
    episodes: list[SleepEpisode]
    logged_episodes: set[int]

    def __post_init__(self) -> None:
        self.sleeping: list[Interval] = [(e.start, e.end) for e in self.episodes]
        self.episodes_by_day: dict[int, list[SleepEpisode]] = {}
        for episode in self.episodes:
            self.episodes_by_day.setdefault(episode.day, []).append(episode)
        self._starts = {
            "worn": [start for start, _ in self.worn],
            "sleeping": [start for start, _ in self.sleeping],
        }

    def within(self, which: str, window: Interval) -> list[Interval]:
        """The `worn` or `sleeping` intervals overlapping `window` (both sorted, disjoint)."""
        intervals: list[Interval] = getattr(self, which)
        first = max(0, bisect_left(self._starts[which], window[0]) - 1)
        result = []
        for interval in intervals[first:]:
            if interval[0] >= window[1]:
                break
            if overlap(interval, window):
                result.append(interval)
        return result


def plan_timeline(person: Person, days: int, rng: random.Random) -> Timeline:
    """Wear and sleep over `days` days. A night is only tracked when the tracker is worn on
    both days around it; a charging gap (30-90 minutes) takes it off during some days."""
    worn_days = [rng.random() >= person.non_wear_rate for _ in range(days)]
    wake = [_clip(round(rng.gauss(person.wake_minute, 30)), 300, 600) for _ in range(days)]
    bed = [_clip(round(rng.gauss(person.bed_minute, 40)), 1260, 1430) for _ in range(days)]
    worn: list[Interval] = []
    episodes: list[SleepEpisode] = []
    for d in range(days):
        if not worn_days[d]:
            continue
        midnight = d * MINUTES_PER_DAY
        night_before = d > 0 and worn_days[d - 1] and rng.random() < person.sleep_track_rate
        if night_before:
            start = (d - 1) * MINUTES_PER_DAY + bed[d - 1]
            episodes.append(_episode(rng, start, midnight + wake[d]))
            worn.append((start, midnight + wake[d]))  # joins yesterday's awake interval
        awake = (midnight + wake[d], midnight + bed[d])
        if rng.random() < person.charge_rate:
            length = rng.randint(30, 90)
            gap_start = rng.randint(awake[0], awake[1] - length)
            worn += [(awake[0], gap_start), (gap_start + length, awake[1])]
        else:
            worn.append(awake)
        if rng.random() < _NAP_RATE:
            start = midnight + rng.randint(13 * 60, 16 * 60)
            nap = (start, start + rng.randint(20, 90))
            if any(overlap(nap, interval) == nap[1] - nap[0] for interval in worn[-2:]):
                episodes.append(_episode(rng, *nap, restful=True))
    logged = {episode.log_id for episode in episodes if rng.random() < person.sleep_log_rate}
    return Timeline(worn_days, _merged(worn), sorted(episodes, key=lambda e: e.start), logged)


def plan_day(person: Person, timeline: Timeline, d: int, rng: random.Random) -> DayPlan:
    """The hour plans of day `d` and the sleep episodes attributed to it.

    The day's activity is drawn once (a handful of random numbers), then shared out over its
    hours in proportion to the awake, worn minutes each has and the time of day
    (HOUR_PROFILE): a year of a thousand people stays quick to write.
    """
    midnight = d * MINUTES_PER_DAY
    day_window = (midnight, midnight + MINUTES_PER_DAY)
    worn = _minutes_per_hour(timeline.within("worn", day_window), midnight)
    sleeping = _minutes_per_hour(timeline.within("sleeping", day_window), midnight)
    hours = [HourPlan(worn=w, in_episode=s) for w, s in zip(worn, sleeping, strict=True)]
    awake = [w - s for w, s in zip(worn, sleeping, strict=True)]
    if any(awake):
        _plan_activity(person, rng, hours, awake)
    attributed = timeline.episodes_by_day.get(d, [])
    return DayPlan(
        index=d,
        worn=timeline.worn_days[d],
        hours=hours,
        episodes=attributed,
        sleep_logged=any(e.log_id in timeline.logged_episodes for e in attributed),
    )


def _plan_activity(
    person: Person, rng: random.Random, hours: list[HourPlan], awake: list[int]
) -> None:
    day_factor = rng.lognormvariate(0, 0.35)
    expected = [
        minutes * min(0.85, person.activity * HOUR_PROFILE[h] * day_factor)
        for h, minutes in enumerate(awake)
    ]
    active = _share_out(round(sum(expected)), expected, awake)
    total = sum(active)
    very_total = _clip(round(total * person.vigorous_share * rng.uniform(0.5, 1.5)), 0, total)
    rest = total - very_total
    moderate_total = _clip(round(rest * person.moderate_share * rng.uniform(0.5, 1.5)), 0, rest)
    very = _share_out(very_total, active, active)
    moderate = _share_out(
        moderate_total, active, [a - v for a, v in zip(active, very, strict=True)]
    )
    cadences = [rng.uniform(low, high) for low, high in CADENCE]
    for hour, a, v, m in zip(hours, active, very, moderate, strict=True):
        hour.very, hour.moderate, hour.light = v, m, a - v - m
        hour.light_steps = round(hour.light * cadences[0])
        hour.moderate_steps = round(hour.moderate * cadences[1])
        hour.very_steps = round(hour.very * cadences[2])


def _share_out(total: int, weights: list[float] | list[int], caps: list[int]) -> list[int]:
    """`total` as whole numbers in proportion to `weights`, none above its cap."""
    result = [0] * len(weights)
    weight_sum = float(sum(weights))
    if total <= 0 or weight_sum <= 0:
        return result
    shares = [total * w / weight_sum for w in weights]
    result = [min(int(share), cap) for share, cap in zip(shares, caps, strict=True)]
    by_remainder = sorted(
        range(len(shares)), key=lambda i: shares[i] - int(shares[i]), reverse=True
    )
    left = total - sum(result)
    while left > 0:
        placed = False
        for i in by_remainder:
            if left and result[i] < caps[i]:
                result[i] += 1
                left -= 1
                placed = True
        if not placed:
            break
    return result


def _minutes_per_hour(intervals: list[Interval], midnight: int) -> list[int]:
    """How many minutes of each hour of the day the intervals cover."""
    per_hour = [0] * 24
    day_end = midnight + MINUTES_PER_DAY
    for interval_start, interval_end in intervals:
        start, end = max(interval_start, midnight) - midnight, min(interval_end, day_end) - midnight
        while start < end:
            hour_end = min(end, (start // 60 + 1) * 60)
            per_hour[start // 60] += hour_end - start
            start = hour_end
    return per_hour


def _episode(rng: random.Random, start: int, end: int, *, restful: bool = False) -> SleepEpisode:
    minutes = end - start
    restless = awake = 0
    if not restful:
        restless = _clip(round(rng.gauss(minutes * _RESTLESS_SHARE, 4)), 0, minutes // 4)
        awake = _clip(round(rng.gauss(minutes * _AWAKE_SHARE, 3)), 0, minutes // 4)
    return SleepEpisode(
        log_id=rng.randint(10_000_000_000, 99_999_999_999),
        start=start,
        end=end,
        restless=restless,
        awake=awake,
    )


def _merged(intervals: list[Interval]) -> list[Interval]:
    """Sorted, with touching or overlapping intervals joined."""
    result: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
