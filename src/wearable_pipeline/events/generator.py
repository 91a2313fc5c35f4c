"""Synthetic analytics events (deterministic per seed) and a client that posts them.

Users and days are those of the CSV generator (`wearable_pipeline.synth`), so events join the
activity and sleep rows downstream. Each user has a device, a client kind and, for some, an
IANA time zone; each day has zero to a few sessions of page views, syncs, metric views, goals,
exports, errors and performance samples — the whole catalog. A chosen share of exact repeats
(`duplicate_rate`) and of invalid events (`invalid_rate`) makes every counter move.

Identity, as Segment's clients send it: a signed-in session's events carry the `user_id` and
the device's `anonymous_id`. A share of sessions (`anonymous_share`) starts signed out, on a
device not seen before: its first events carry only a fresh `anonymous_id`, then an
`identify` event carries both ids (the sign-in), and the events after it the `user_id` as
well. An `identify` with both ids is what ties the anonymous events to the user downstream.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from wearable_pipeline.synth import synthetic_dates, synthetic_user_ids

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1.0.0"
VENDORS = [
    "fitbit",
    "apple_health",
    "garmin",
    "oura",
    "whoop",
    "samsung",
    "google_fit",
    "withings",
    "other",
]
METRICS = ["steps", "sleep", "calories", "distance", "active_minutes"]
RANGES = ["day", "week", "month", "custom"]
TIMEZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Europe/London",
]
PAGES = [
    ("/dashboard", "Dashboard"),
    ("/sleep", "Sleep"),
    ("/activity", "Activity"),
    ("/goals", "Goals"),
    ("/devices", "Devices"),
    ("/settings", "Settings"),
]
ENDPOINTS = ["/api/v1/summary", "/api/v1/sync", "/api/v1/goals", "/api/v1/devices"]
GOAL_UNITS = {
    "steps": "steps",
    "sleep": "minutes",
    "calories": "kcal",
    "distance": "km",
    "active_minutes": "minutes",
}
RETRY_STATUSES = frozenset({502, 503, 504})
# Share of sessions that start signed out and sign in part-way: enough that every demo day
# has pre-sign-in activity to attribute.
DEFAULT_ANONYMOUS_SHARE = 0.3


class _User:
    """A synthetic user's stable traits."""

    def __init__(self, user_id: str, rng: random.Random) -> None:
        self.user_id = user_id
        self.anonymous_id = str(_uuid(rng))
        self.device_id = f"dev-{rng.getrandbits(48):012x}"
        self.source = rng.choice(["web", "mobile", "mobile"])
        self.vendor = rng.choice(VENDORS[:-1])
        self.timezone = rng.choice(TIMEZONES) if rng.random() < 0.5 else None
        self.activity = rng.uniform(0.3, 1.0)  # how engaged: sessions per day scale with it


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate_events(
    *,
    users: int,
    days: int,
    seed: int,
    duplicate_rate: float = 0.0,
    invalid_rate: float = 0.0,
    anonymous_share: float = DEFAULT_ANONYMOUS_SHARE,
) -> Iterator[dict]:
    """Yield events, the same sequence for the same arguments.

    `duplicate_rate` of the output are exact repeats of an earlier event (same event_id);
    `invalid_rate` are events broken in one of several ways (each with a fresh event_id);
    `anonymous_share` of the sessions start signed out and sign in part-way (module doc).
    """
    if not 0 <= duplicate_rate < 1 or not 0 <= invalid_rate < 1:
        raise ValueError("duplicate_rate and invalid_rate must be in [0, 1)")
    if not 0 <= anonymous_share <= 1:
        raise ValueError("anonymous_share must be in [0, 1]")
    rng = random.Random(f"events-{seed}")
    people = [_User(user_id, rng) for user_id in synthetic_user_ids(users, seed)]
    recent: list[dict] = []
    for day in synthetic_dates(days):
        for person in people:
            for event in _day_of(person, day, rng, anonymous_share):
                roll = rng.random()
                if roll < invalid_rate:
                    yield _break(event, rng)
                    continue
                yield event
                recent.append(event)
                if len(recent) > 200:
                    del recent[:100]
                if rng.random() < duplicate_rate:
                    yield dict(rng.choice(recent))


def _day_of(person: _User, day: Any, rng: random.Random, anonymous_share: float) -> Iterator[dict]:
    sessions = sum(rng.random() < person.activity for _ in range(3))
    zone = ZoneInfo(person.timezone) if person.timezone else UTC
    for _ in range(sessions):
        start = datetime(
            day.year,
            day.month,
            day.day,
            rng.randint(6, 22),
            rng.randint(0, 59),
            rng.randint(0, 59),
            rng.randint(0, 999) * 1000,
            tzinfo=zone,
        )
        signed_out = rng.random() < anonymous_share
        yield from _session(person, start, rng, signed_out=signed_out)


def _session(
    person: _User, start: datetime, rng: random.Random, *, signed_out: bool
) -> Iterator[dict]:
    session_id = str(_uuid(rng))
    clock = [start]
    # A signed-out session runs on a device not seen before: a fresh anonymous id.
    anonymous_id = str(_uuid(rng)) if signed_out else person.anonymous_id
    signed_in = not signed_out  # read by event() when it is called

    def event(name: str, payload: dict[str, Any]) -> dict:
        clock[0] += timedelta(seconds=rng.randint(1, 90), milliseconds=rng.randint(0, 999))
        page, _title = rng.choice(PAGES)
        body: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "event_id": str(_uuid(rng)),
            "event_name": name,
            "anonymous_id": anonymous_id,
            "device_id": person.device_id,
            "session_id": session_id,
            "client_ts": clock[0].isoformat(timespec="milliseconds"),
            "source": person.source,
            "environment": "prod",
            "app_version": "2.4.1",
            "page": page,
            "payload": payload,
        }
        if signed_in:
            body["user_id"] = person.user_id
        if person.timezone:
            body["timezone"] = person.timezone
        return body

    page, title = rng.choice(PAGES)
    yield event("page_view", {"page_title": title, "entry_point": "direct"})
    yield event(
        "perf_lcp", {"lcp_ms": round(rng.lognormvariate(7.2, 0.4), 1), "page_type": page.strip("/")}
    )
    if signed_out:
        # A look around before signing in, then the sign-in ties the two ids together.
        for _ in range(rng.randint(0, 2)):
            page, title = rng.choice(PAGES)
            yield event("page_view", {"page_title": title, "entry_point": "navigation"})
            yield event(
                "metric_viewed",
                {"metric_type": rng.choice(METRICS), "date_range": "week", "vendor": "other"},
            )
        signed_in = True
        yield event("identify", {"user_status": rng.choice(["known", "known", "merged"])})
    vendor = person.vendor
    if rng.random() < 0.08:
        yield event("connect_device_started", {"vendor": vendor})
        if rng.random() < 0.8:
            yield event("connect_device_succeeded", {"vendor": vendor, "device_model": "Model S2"})
        else:
            yield event(
                "connect_device_failed",
                {
                    "vendor": vendor,
                    "error_code": "oauth_denied",
                    "error_message": "access was denied",
                },
            )
    date_range = rng.choice(RANGES[:3])
    yield event(
        "sync_requested", {"vendor": vendor, "date_range": date_range, "sync_status": "requested"}
    )
    if rng.random() < 0.9:
        yield event(
            "sync_completed",
            {
                "vendor": vendor,
                "date_range": date_range,
                "sync_status": "completed",
                "records_synced": rng.randint(0, 2000),
            },
        )
    else:
        yield event(
            "sync_failed",
            {
                "vendor": vendor,
                "date_range": date_range,
                "sync_status": "failed",
                "error_code": "vendor_timeout",
                "error_message": "the vendor did not answer",
            },
        )
    for _ in range(rng.randint(1, 4)):
        page, title = rng.choice(PAGES)
        yield event("page_view", {"page_title": title, "entry_point": "navigation"})
        yield event(
            "metric_viewed",
            {
                "metric_type": rng.choice(METRICS),
                "date_range": rng.choice(RANGES),
                "vendor": vendor,
            },
        )
        endpoint = rng.choice(ENDPOINTS)
        status = 200 if rng.random() < 0.97 else rng.choice([500, 502, 429])
        yield event(
            "perf_api_latency",
            {
                "api_latency_ms": round(rng.lognormvariate(5, 0.6), 1),
                "endpoint": endpoint,
                "status_code": status,
            },
        )
        if status != 200:
            yield event(
                "api_error",
                {
                    "endpoint": endpoint,
                    "status_code": status,
                    "error_code": f"http_{status}",
                    "error_message": "the request failed",
                },
            )
    if rng.random() < 0.1:
        metric = rng.choice(METRICS)
        yield event(
            "goal_created",
            {
                "metric_type": metric,
                "target_value": rng.choice([30, 60, 8000, 10000]),
                "target_unit": GOAL_UNITS[metric],
                "date_range": "day",
            },
        )
    if rng.random() < 0.05:
        yield event(
            "export_clicked",
            {
                "export_format": rng.choice(["csv", "json"]),
                "date_range": rng.choice(RANGES),
                "vendor": vendor,
            },
        )
    if rng.random() < 0.05:
        yield event(
            "ui_error",
            {
                "component": "chart",
                "error_code": "render_failed",
                "error_message": "could not draw the chart",
                "severity": rng.choice(["info", "warning", "error"]),
            },
        )


def _break(event: dict, rng: random.Random) -> dict:
    """A copy of `event` made invalid in one of the ways real clients get it wrong."""
    broken = orjson.loads(orjson.dumps(event))
    broken["event_id"] = str(_uuid(rng))
    kind = rng.randrange(7)
    if kind == 0:
        broken["payload"] = {**broken["payload"], "unexpected_field": 1}
    elif kind == 1:
        broken["payload"] = {}
    elif kind == 2:
        broken["event_name"] = "page_viewed"
    elif kind == 3:
        broken["event_id"] = "not-a-uuid"
    elif kind == 4:
        broken["client_ts"] = broken["client_ts"][:19]  # no offset
    elif kind == 5:
        broken["schema_version"] = "2.0.0"
    else:
        broken.pop("user_id", None)
        broken.pop("anonymous_id", None)
    return broken


def _batches(events: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for event in events:
        chunk.append(event)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class PostError(RuntimeError):
    """The server refused a batch for a reason a retry will not fix (4xx), or kept failing."""


def post_events(
    url: str,
    events: Iterable[dict],
    *,
    batch_size: int = 500,
    api_key: str | None = None,
    max_attempts: int = 8,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> dict:
    """POST `events` to `url` (…/v1/events) in batches; return the summed server counts.

    Retries 502/503/504 and connection errors with exponential backoff (tenacity) — safe,
    because the server dedupes accepted events by event_id and stores a rejected one once.
    Raises PostError on any other non-200 answer, or when a batch still fails after
    `max_attempts`. Keys: received, accepted, deduped, rejected, batches.
    """
    totals = {"received": 0, "accepted": 0, "deduped": 0, "rejected": 0, "batches": 0}
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    with httpx.Client(timeout=30.0, headers=headers, transport=transport) as client:
        for chunk in _batches(events, batch_size):
            counts = _post_one(client, url, orjson.dumps({"events": chunk}), max_attempts, sleep)
            for key in ("received", "accepted", "deduped", "rejected"):
                totals[key] += int(counts[key])
            totals["batches"] += 1
    return totals


class _RetryableError(RuntimeError):
    """A batch that may succeed when sent again: 502/503/504 or no connection."""


def _post_one(
    client: httpx.Client, url: str, body: bytes, max_attempts: int, sleep: Callable[[float], None]
) -> dict:
    retrying = Retrying(
        retry=retry_if_exception_type(_RetryableError),
        stop=stop_after_attempt(max_attempts),
        wait=wait_exponential(multiplier=0.2, max=5.0),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    try:
        return retrying(_post_attempt, client, url, body)
    except _RetryableError as exc:
        raise PostError(f"{url}: batch failed after {max_attempts} attempts ({exc})") from exc


def _post_attempt(client: httpx.Client, url: str, body: bytes) -> dict:
    try:
        response = client.post(url, content=body)
    except httpx.TransportError as exc:
        raise _RetryableError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 200:
        return response.json()
    if response.status_code in RETRY_STATUSES:
        raise _RetryableError(f"HTTP {response.status_code}")
    raise PostError(f"{url} answered {response.status_code}: {response.text[:500]}")


def _log_retry(state: RetryCallState) -> None:
    problem = state.outcome.exception() if state.outcome else None
    log.warning("retrying batch", extra={"attempt": state.attempt_number, "problem": str(problem)})
