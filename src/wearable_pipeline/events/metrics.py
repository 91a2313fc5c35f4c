"""Prometheus counters and the request-latency histogram of the event API.

Two modes, chosen by the environment when the app is built:

- `wearable serve` (any number of workers) sets `PROMETHEUS_MULTIPROC_DIR`
  (`metrics_dir.shared_metrics_dir`): the values live in files shared by the workers, and
  `render` sums every process's files, so each scrape reports the whole service whatever
  worker answers it, and counters never go backwards, through a worker restart too (a dead
  worker's files stay and keep counting in the sums). The metrics have no gauges, so
  `multiprocess.mark_process_dead` (which only removes a dead process's live-gauge files)
  has nothing to do.
- Otherwise (an app built in-process, as the tests do): each app has its own registry, so
  two apps in one process do not collide.

A worker's metric file is empty for a moment after the worker creates it, and for good if the
worker is killed in that moment; `WorkerFilesCollector` leaves such files out of the sums,
which prometheus_client's own collector does not yet do.

Either way the figures since the service started add up to what `ops.ingest_batches` (and
`wearable stats`) recorded over the same requests.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from wearable_pipeline.events.metrics_dir import MULTIPROC_ENV

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTCOMES = ("received", "accepted", "deduped", "rejected")
# Milliseconds matter here (the single-event target is p99 < 20 ms), seconds for the tail.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WorkerFilesCollector:
    """The sums of every worker's metric files, as `MultiProcessCollector` makes them, but
    without the files that are still empty.

    prometheus_client creates a worker's file first and sizes it afterwards. A scrape that
    reads the file in between fails as a whole: a 500 instead of the figures
    (prometheus/client_python#1199). A worker killed in that moment leaves the file empty for
    good, and then every later scrape fails. An empty file holds no values, so leaving it out
    changes no figure. Once a release reads empty files as empty (the open pull request
    client_python#1207), `MultiProcessCollector` can take this class's place again.
    """

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def collect(self) -> Iterable[Metric]:
        files = []
        for file in self.folder.glob("*.db"):
            try:
                if file.stat().st_size > 0:
                    files.append(str(file))
            except FileNotFoundError:  # removed since the listing: it has nothing to add
                continue
        return MultiProcessCollector.merge(files, accumulate=True)


class IngestMetrics:
    """Counters: events by outcome, requests by route and status, database outages."""

    def __init__(self) -> None:
        self.shared_dir = os.environ.get(MULTIPROC_ENV) or None
        # Shared mode: the values go to the files; a scrape reads them through a collector.
        # Per-app mode: the metrics register in this app's own registry.
        self.registry = CollectorRegistry(auto_describe=True)
        own = None if self.shared_dir else self.registry
        if self.shared_dir:
            self.registry.register(WorkerFilesCollector(self.shared_dir))
        self.events = Counter(
            "wearable_events",
            "Events by outcome: received = accepted + deduped + rejected.",
            ["outcome"],
            registry=own,
        )
        for outcome in OUTCOMES:
            self.events.labels(outcome)  # present at 0 before the first request
        self.requests = Counter(
            "wearable_http_requests",
            "HTTP requests by route and status code.",
            ["route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "wearable_http_request_duration_seconds",
            "Time from request start to the response's last byte handed to the server.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.database_unavailable = Counter(
            "wearable_database_unavailable",
            "Requests answered 503 because the database could not be reached.",
            registry=own,
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
