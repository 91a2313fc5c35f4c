"""Minute-level detail of a planned day, and heart-rate samples while the tracker is worn.

Each hour's plan (days.HourPlan) is spread over its minutes: which awake minutes are light,
moderate or very active, and how the hour's steps split between them (exactly: the minutes
add up to the hour). METs and calories follow from each minute's state, so they add up too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from wearable_pipeline.synth.days import MINUTES_PER_DAY, DayPlan, SleepEpisode, Timeline

# METs in tenths, as Fitabase stores them (10 = 1.0 MET), per minute state.
METS_RESTING = 10  # not worn, or in a sleep episode
METS_BY_INTENSITY = (12, 30, 50, 80)  # awake and worn: sedentary, light, moderate, very
# Heart rate above the person's resting rate, per state (sleep states 1-3, awake intensities).
_BPM_ABOVE_REST_ASLEEP = {1: -4.0, 2: 2.0, 3: 8.0}
_BPM_ABOVE_REST_AWAKE = (10.0, 25.0, 45.0, 70.0)


def calories_per_minute(bmr: int, mets: int) -> float:
    """kcal at `mets` (tenths) for a minute; linear, so a sum of METs gives a sum of kcal."""
    return bmr / MINUTES_PER_DAY * mets / 10


@dataclass
class MinuteDay:
    """One day, minute by minute (index = minute of the day)."""

    worn: list[bool]
    in_episode: list[bool]
    intensity: list[int]
    steps: list[int]
    mets: list[int]


def hour_mets(day: DayPlan, hour: int) -> int:
    """The sum of an hour's minute METs, from its plan alone (no minute simulation)."""
    plan = day.hours[hour]
    resting = 60 - (plan.worn - plan.in_episode)
    return (
        METS_RESTING * resting
        + METS_BY_INTENSITY[0] * plan.sedentary_awake
        + METS_BY_INTENSITY[1] * plan.light
        + METS_BY_INTENSITY[2] * plan.moderate
        + METS_BY_INTENSITY[3] * plan.very
    )


def realise_day(day: DayPlan, timeline: Timeline, rng: random.Random) -> MinuteDay:
    """Spread every hour plan of `day` over its minutes."""
    midnight = day.index * MINUTES_PER_DAY
    window = (midnight, midnight + MINUTES_PER_DAY)
    worn = [False] * MINUTES_PER_DAY
    in_episode = [False] * MINUTES_PER_DAY
    for start, end in timeline.within("worn", window):
        for minute in range(max(start, midnight), min(end, window[1])):
            worn[minute - midnight] = True
    for start, end in timeline.within("sleeping", window):
        for minute in range(max(start, midnight), min(end, window[1])):
            in_episode[minute - midnight] = True
    intensity = [0] * MINUTES_PER_DAY
    steps = [0] * MINUTES_PER_DAY
    for hour, plan in enumerate(day.hours):
        if not plan.active:
            continue
        awake = [m for m in range(hour * 60, hour * 60 + 60) if worn[m] and not in_episode[m]]
        chosen = rng.sample(awake, plan.active)
        very = chosen[: plan.very]
        moderate = chosen[plan.very : plan.very + plan.moderate]
        light = chosen[plan.very + plan.moderate :]
        for level, minutes, total in (
            (3, very, plan.very_steps),
            (2, moderate, plan.moderate_steps),
            (1, light, plan.light_steps),
        ):
            for minute, count in zip(minutes, _split(total, len(minutes), rng), strict=True):
                intensity[minute] = level
                steps[minute] = count
    mets = [
        METS_BY_INTENSITY[intensity[m]] if worn[m] and not in_episode[m] else METS_RESTING
        for m in range(MINUTES_PER_DAY)
    ]
    return MinuteDay(worn, in_episode, intensity, steps, mets)


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` as `parts` whole numbers of similar size that add up to it exactly."""
    if parts == 0:
        return []
    weights = [rng.uniform(0.7, 1.3) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(share) for share in shares]
    remainders = sorted(range(parts), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in remainders[: total - sum(counts)]:
        counts[i] += 1
    return counts


def sleep_states(episode: SleepEpisode, seed: str) -> list[int]:
    """The episode's minute states (1 asleep, 2 restless, 3 awake), fixed by its log id."""
    rng = random.Random(f"{seed}-sleep-{episode.log_id}")
    states = [1] * episode.minutes
    marked = rng.sample(range(episode.minutes), episode.restless + episode.awake)
    for position in marked[: episode.restless]:
        states[position] = 2
    for position in marked[episode.restless :]:
        states[position] = 3
    return states


class HeartRateSampler:
    """Heart-rate samples every 5-15 s while the tracker is worn, one day after another: the
    clock carries over midnight, so the gap between two samples is never under 5 s."""

    def __init__(self, resting_bpm: float, rng: random.Random) -> None:
        self.resting_bpm = resting_bpm
        self.rng = rng
        self._next = rng.randint(0, 14)  # seconds from the current day's midnight

    def day(self, minutes: MinuteDay, sleep_state_of: dict[int, int]) -> list[tuple[int, int]]:
        """(second of the day, bpm) of one day; `sleep_state_of` maps the day's minutes in a
        sleep episode to their state."""
        gauss, randint = self.rng.gauss, self.rng.randint
        samples = []
        second = self._next
        worn = minutes.worn
        for minute in range(MINUTES_PER_DAY):
            end = (minute + 1) * 60
            if not worn[minute]:
                second = max(second, end + randint(0, 14))
                continue
            state = sleep_state_of.get(minute)
            if state is not None:
                level = self.resting_bpm + _BPM_ABOVE_REST_ASLEEP[state]
            else:
                level = self.resting_bpm + _BPM_ABOVE_REST_AWAKE[minutes.intensity[minute]]
            while second < end:
                samples.append((second, max(38, min(205, round(gauss(level, 3.0))))))
                second += randint(5, 15)
        self._next = second - SECONDS_PER_DAY
        return samples


SECONDS_PER_DAY = MINUTES_PER_DAY * 60
