"""Prometheus counters and the request-latency histogram of one API process.

Each app gets its own registry (not the global default), so two apps in one test process do
not collide. With several workers each process counts for itself; the durable, summed totals
are in `ops.ingest_batches` (`wearable stats`).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTCOMES = ("received", "accepted", "deduped", "rejected")
# Milliseconds matter here (the single-event target is p99 < 20 ms), seconds for the tail.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngestMetrics:
    """Counters: events by outcome, requests by route and status, database outages."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "wearable_events",
            "Events by outcome: received = accepted + deduped + rejected.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in OUTCOMES:
            self.events.labels(outcome)  # present at 0 before the first request
        self.requests = Counter(
            "wearable_http_requests",
            "HTTP requests by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wearable_http_request_duration_seconds",
            "Time from request start to the last byte of the response.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.database_unavailable = Counter(
            "wearable_database_unavailable",
            "Requests answered 503 because the database could not be reached.",
            registry=self.registry,
        )

    def count_events(self, counts: dict[str, int]) -> None:
        for outcome in OUTCOMES:
            if counts.get(outcome):
                self.events.labels(outcome).inc(counts[outcome])

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
