"""The API as a child process (demo, end-to-end tests, benchmarks): it must never stall."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from wearable_pipeline.events.server_process import EventApiProcess


def _page_view() -> dict:
    return {
        "schema_version": "1.0.0",
        "event_id": str(uuid.uuid4()),
        "event_name": "page_view",
        "user_id": "1503960366",
        "source": "web",
        "environment": "local",
        "client_ts": "2024-01-01T08:30:00+01:00",
        "payload": {"page_title": "Dashboard", "entry_point": "navigation"},
    }


def test_hundreds_of_requests_do_not_fill_a_log_pipe(database_url: str, tmp_path: Path) -> None:
    """One JSON log line per request: 600 requests write well over a pipe's 64 KiB buffer."""
    log_path = tmp_path / "logs" / "api.log"
    with EventApiProcess(database_url, log_path) as api, httpx.Client(timeout=10) as client:
        for _ in range(600):
            response = client.post(api.events_url, json={"events": [_page_view()]})
            assert response.status_code == 200, response.text
    assert log_path.stat().st_size > 64 * 1024
    assert log_path.read_text().count('"path": "/v1/events"') >= 600
