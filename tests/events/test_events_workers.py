"""`wearable serve --workers 2` as a real process: /metrics sums every worker, through a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

from .helpers import Served, make_event, serving, wearable

OUTCOMES = ("received", "accepted", "deduped", "rejected")


def scrape(base: str) -> dict[str, float]:
    """The figures of one scrape, on a new connection (any worker may answer it)."""
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    text = response.text
    figures: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "wearable_events_total":
                figures[sample.labels["outcome"]] = sample.value
            elif (
                sample.name == "wearable_http_requests_total"
                and sample.labels["route"] == "/v1/events"
            ):
                figures[f"requests {sample.labels['status']}"] = sample.value
            elif (
                sample.name == "wearable_http_request_duration_seconds_count"
                and sample.labels["route"] == "/v1/events"
            ):
                figures["latency count"] = sample.value
    return figures


def workers_of(served: Served) -> set[int]:
    """The pids of uvicorn's worker processes (children running the app, not helpers)."""
    pids = set()
    for child in psutil.Process(served.process.pid).children():
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:  # gone, or a zombie the supervisor has yet to reap: not a worker
            continue
        if "multiprocessing.spawn" in command and "resource_tracker" not in command:
            pids.add(child.pid)
    return pids


def post_requests(base: str, count: int) -> None:
    """`count` one-event requests, alternating the two paths of the endpoint."""
    for index in range(count):
        path = "/events" if index % 2 else "/v1/events"
        # Every fifth carries an invalid event too, so the rejected counter moves as well.
        events = [make_event()] + ([make_event(event_id="bad")] if index % 5 == 0 else [])
        response = httpx.post(f"{base}{path}", json={"events": events}, timeout=10)
        assert response.status_code == 200, response.text


def expected(requests: int) -> dict[str, float]:
    rejected = len(range(0, requests, 5))
    return {
        "received": requests + rejected,
        "accepted": requests,
        "deduped": 0,
        "rejected": rejected,
        "requests 200": requests,
        "latency count": requests,
    }


def test_every_scrape_reports_the_whole_service_through_a_worker_restart(
    fresh_database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    home = tmp_path / "home"
    metrics_dir = tmp_path / "metrics"
    with serving(
        fresh_database_url,
        home,
        up_when="/ready",
        workers=2,
        log=log,
        extra_env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    ) as served:
        deadline = time.monotonic() + 60
        while len(workers_of(served)) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # What a worker killed between creating its metric files and sizing them leaves
        # behind (the same moment is passed through whenever a worker starts): empty files.
        # They count nothing, and must not fail the scrapes.
        for kind in ("counter", "histogram"):
            (metrics_dir / f"{kind}_99999999.db").touch()

        post_requests(served.base, 20)
        seen = [scrape(served.base) for _ in range(8)]
        assert all(figures == expected(20) for figures in seen), seen

        # Kill one worker outright: uvicorn's supervisor starts another in its place. The
        # dead worker's counts stay in the sums, so no scrape goes backwards meanwhile.
        victim = min(workers_of(served))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            figures = scrape(served.base)
            assert figures == expected(20), figures
            current = workers_of(served)
            if len(current) == 2 and victim not in current:
                break
            assert time.monotonic() < deadline, f"no new worker: {current}\n{log.read_text()}"
            time.sleep(0.2)
        # The new worker serves once its lifespan is done; until then the other answers.
        post_requests(served.base, 10)
        seen = [scrape(served.base) for _ in range(8)]
        assert all(figures == expected(30) for figures in seen), seen

        stats = subprocess.run(
            wearable("stats", "--json"), env=served.env, capture_output=True, text=True, check=True
        )
        durable = json.loads(stats.stdout)
        assert {key: float(durable[key]) for key in OUTCOMES} == {
            key: expected(30)[key] for key in OUTCOMES
        }
    assert served.process.returncode == 0, log.read_text()
