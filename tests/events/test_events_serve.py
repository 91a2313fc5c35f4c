"""End to end through a real `wearable serve` process: generator → HTTP → database → stats."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from wearable_pipeline.db.migrate import applied_migrations, available_migrations
from wearable_pipeline.events.generator import generate_events

from .helpers import make_event, serving, wearable


def test_serve_generate_stats_and_graceful_sigterm(database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path / "home", up_when="/ready") as served:
        process, base, env = served.process, served.base, served.env
        args = ["--users", "3", "--days", "4", "--seed", "5", "--batch-size", "100"]
        rates = ["--duplicate-rate", "0.05", "--invalid-rate", "0.05"]
        result = subprocess.run(
            wearable("generate-events", *args, *rates, "--url", f"{base}/v1/events", "--json"),
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        totals = json.loads(result.stdout)
        assert all(totals[key] > 0 for key in ("received", "accepted", "deduped", "rejected"))
        assert totals["accepted"] + totals["deduped"] + totals["rejected"] == totals["received"]
        events = list(generate_events(users=3, days=4, seed=5, duplicate_rate=0.05,
                                      invalid_rate=0.05))  # fmt: skip
        assert totals["received"] == len(events)

        stats = subprocess.run(
            wearable("stats", "--json"), env=env, capture_output=True, text=True, check=True
        )
        durable = json.loads(stats.stdout)
        assert {k: durable[k] for k in totals if k != "batches"} == {
            k: v for k, v in totals.items() if k != "batches"
        }
        with psycopg.connect(database_url) as conn:
            stored = conn.execute("select count(*) from raw.raw_events").fetchone()
            rejected = conn.execute("select count(*) from raw.rejected_events").fetchone()
        assert stored == (totals["accepted"],) and rejected == (totals["rejected"],)
        metrics = httpx.get(f"{base}/metrics").text
        assert f'wearable_events_total{{outcome="accepted"}} {float(totals["accepted"])}' in metrics
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    log_lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    requests = [line for line in log_lines if line.get("message") == "request"]
    assert requests and all("request_id" in line and "latency_ms" in line for line in requests)
    assert any(line.get("accepted") for line in requests)
    assert any("WEARABLE_API_KEYS is not set" in line.get("message", "") for line in log_lines)


def test_serve_starts_while_the_database_is_down_and_migrates_it_when_back(
    own_postgres: Any, tmp_path: Path
) -> None:
    """`wearable serve` on a stopped, never-migrated server: up, 503, then ready by itself."""
    url = own_postgres.get_uri()
    own_postgres.stop()
    event = make_event()
    with serving(url, tmp_path / "home", up_when="/health") as served:
        process, base = served.process, served.base
        ready = httpx.get(f"{base}/ready", timeout=5)
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "unreachable"}
        refused = httpx.post(f"{base}/v1/events", json={"events": [event]}, timeout=10)
        assert refused.status_code == 503, refused.text

        own_postgres.start()
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/ready", timeout=5).status_code != 200:
            assert process.poll() is None
            assert time.monotonic() < deadline, "the service did not become ready"
            time.sleep(0.3)
        response = httpx.post(f"{base}/v1/events", json={"events": [event]}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1
        with psycopg.connect(url) as conn:  # the service applied every migration itself
            assert [row[1] for row in applied_migrations(conn)] == [
                migration.name for migration in available_migrations()
            ]
            stored = conn.execute(
                "select count(*) from raw.raw_events where event_id = %s", [event["event_id"]]
            ).fetchone()
        assert stored == (1,)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert "serving anyway" in stderr
