"""POST /v1/events over real HTTP: counts, storage, dedupe, rejects kept, bad input, endpoints."""

from __future__ import annotations

import gzip
import logging
import time
import uuid
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from wearable_pipeline.config import Settings

from .helpers import LiveServer, make_event, make_settings, start_server

CATALOG = [
    "page_view", "identify", "connect_device_started", "connect_device_succeeded",
    "connect_device_failed", "sync_requested", "sync_completed", "sync_failed", "metric_viewed",
    "goal_created", "export_clicked", "ui_error", "api_error", "perf_lcp", "perf_api_latency",
]  # fmt: skip


def post(client: httpx.Client, events: Any, **kwargs: Any) -> httpx.Response:
    return client.post("/v1/events", json={"events": events}, **kwargs)


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in ("raw.raw_events", "raw.rejected_events", "ops.ingest_batches")
        }


def test_every_catalog_event_is_accepted_and_stored_as_sent(
    client: httpx.Client, database_url: str
) -> None:
    events = [make_event(name) for name in CATALOG]
    events[0]["received_at"] = "1999-01-01T00:00:00Z"  # a client-sent server time is ignored
    response = post(client, events)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] == body["accepted"] == len(CATALOG)
    assert body["deduped"] == body["rejected"] == 0 and body["errors"] == []
    assert response.headers["x-request-id"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select event_id::text, event_name, user_id, event, received_at, batch_id::text"
            " from raw.raw_events where batch_id = %s",
            [body["batch_id"]],
        ).fetchall()
        batch = conn.execute(
            "select received, accepted, deduped, rejected from ops.ingest_batches"
            " where batch_id = %s",
            [body["batch_id"]],
        ).fetchone()
    stored = {row[0]: row for row in rows}
    assert set(stored) == {e["event_id"] for e in events}
    for event in events:
        assert stored[event["event_id"]][3] == event  # jsonb equals the event as sent
    assert stored[events[0]["event_id"]][4].year >= 2024  # server time, not the client's
    assert batch == (len(CATALOG), len(CATALOG), 0, 0)


def test_duplicates_in_batch_and_across_batches_are_deduped(
    client: httpx.Client, database_url: str
) -> None:
    first, second = make_event(), make_event("identify")
    upper = dict(first, event_id=first["event_id"].upper())  # same UUID, other spelling
    body = post(client, [first, second, first, upper]).json()
    assert (body["received"], body["accepted"], body["deduped"], body["rejected"]) == (4, 2, 2, 0)
    again = post(client, [second, make_event()]).json()
    assert (again["accepted"], again["deduped"]) == (1, 1)
    with psycopg.connect(database_url) as conn:
        count = conn.execute(
            "select count(*) from raw.raw_events where event_id = any(%s::uuid[])",
            [[first["event_id"], second["event_id"]]],
        ).fetchone()
    assert count == (2,)


BAD_EVENTS: list[tuple[str, Any, str]] = [
    ("not an object", [1, 2], ""),
    ("null", None, ""),
    ("no user", {k: v for k, v in make_event().items() if k != "user_id"}, ""),
    ("unknown event_name", make_event(event_name="page_viewed"), "/event_name"),
    ("event_name a list", make_event(event_name=["page_view"]), "/event_name"),
    ("unknown payload field", make_event(payload={"page_title": "a", "entry_point": "b", "x": 1}),
     "/payload/x"),
    ("missing payload field", make_event(payload={"page_title": "a"}), "/payload/entry_point"),
    ("wrong type", make_event("sync_completed", payload={
        "vendor": "fitbit", "date_range": "day", "sync_status": "completed",
        "records_synced": "12"}), "/payload/records_synced"),
    ("invalid uuid", make_event(event_id="1234"), "/event_id"),
    ("uuid with newline", make_event(event_id=str(uuid.uuid4()) + "\n"), "/event_id"),
    ("client_ts without offset", make_event(client_ts="2024-01-01T08:30:00"), "/client_ts"),
    ("client_ts not a date", make_event(client_ts="2024-02-30T08:30:00Z"), "/client_ts"),
    ("unsupported major", make_event(schema_version="2.0.0"), "/schema_version"),
    ("unknown envelope field", make_event(colour="red"), "/colour"),
    ("bad timezone", make_event(timezone="Mars/Olympus"), "/timezone"),
    ("bad enum", make_event("identify", payload={"user_status": "maybe"}),
     "/payload/user_status"),
    ("negative count", make_event("sync_completed", payload={
        "vendor": "fitbit", "date_range": "day", "sync_status": "completed",
        "records_synced": -1}), "/payload/records_synced"),
    ("very long string", make_event(page="/" + "x" * 5000), "/page"),
    ("deeply nested", make_event(payload={"page_title": "a", "entry_point": "b",
                                          "deep": orjson.loads("[" * 200 + "]" * 200)}),
     "/payload/deep"),
    # past orjson's 254-level serialisation limit: once a plain-text 500, now a kept reject
    ("nested 300 deep", make_event(payload={"page_title": "a", "entry_point": "b",
                                            "deep": orjson.loads("[" * 300 + "]" * 300)}), ""),
    ("nested 300 deep, rest valid", make_event(received_at=orjson.loads("[" * 300 + "]" * 300)),
     ""),
    ("NUL character", make_event(user_id="15039\x0060366"), "/user_id"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "event", "path"), BAD_EVENTS, ids=[c[0] for c in BAD_EVENTS])
def test_bad_event_is_rejected_with_a_pointer_and_kept_as_sent(
    client: httpx.Client, database_url: str, case: str, event: Any, path: str
) -> None:
    good = make_event()
    response = post(client, [good, event])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (2, 1, 1)
    [error] = body["errors"]
    assert error["index"] == 1
    assert path in [reason["path"] for reason in error["errors"]], error
    assert all(reason["message"] for reason in error["errors"])
    with psycopg.connect(database_url) as conn:
        stored, reasons, exact = conn.execute(
            "select event, errors, event_bytes from raw.rejected_events where batch_id = %s",
            [body["batch_id"]],
        ).fetchone()  # type: ignore[misc]
    assert reasons == error["errors"]
    if case == "NUL character":
        assert orjson.loads(exact) == event  # jsonb cannot hold U+0000: exact bytes beside it
        assert stored["user_id"] == "15039\ufffd60366"
    else:
        assert stored == event and exact is None


def test_an_event_as_deep_as_the_parser_allows_is_rejected_and_stored_as_sent(
    client: httpx.Client, database_url: str
) -> None:
    # body object + events list + event object + 1,021 arrays = the parser's 1,024 levels
    deep = make_event(received_at="DEEP")
    deep_text = orjson.dumps(deep).decode().replace('"DEEP"', "[" * 1021 + "]" * 1021)
    good = make_event()
    body = b'{"events":[' + orjson.dumps(good) + b"," + deep_text.encode() + b"]}"
    response = client.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert answer["errors"][0]["errors"][0]["path"] == ""
    assert "nested deeper than 254 levels" in answer["errors"][0]["errors"][0]["message"]
    with psycopg.connect(database_url) as conn:
        same, exact = conn.execute(  # compared in SQL: Python's json module stops at ~1,000
            "select event = %s::jsonb, event_bytes from raw.rejected_events where batch_id = %s",
            [deep_text, answer["batch_id"]],
        ).fetchone()  # type: ignore[misc]
    assert same is True and exact is None  # jsonb holds the whole depth: stored as sent


def test_an_unexpected_error_answers_json_500_with_the_request_id(
    client: httpx.Client, database_url: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from wearable_pipeline.events import batch

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(batch, "prepare_batch", broken)  # a fault in our code, not the DB
    before = table_counts(database_url)
    with caplog.at_level(logging.ERROR, logger="wearable_pipeline.events.requests"):
        response = post(client, [make_event()], headers={"x-request-id": "bug-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "internal error", "request_id": "bug-1"}
    assert response.headers["x-request-id"] == "bug-1"
    [record] = [r for r in caplog.records if getattr(r, "request_id", None) == "bug-1"]
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError
    assert table_counts(database_url) == before
    monkeypatch.undo()
    assert post(client, [make_event()]).status_code == 200


def test_unicode_and_sql_looking_strings_are_stored_literally(
    client: httpx.Client, database_url: str
) -> None:
    sneaky = "'); drop table raw.raw_events; --"
    event = make_event(
        user_id=sneaky,
        page="/München/日本語/🏃‍♀️",
        payload={"page_title": "Ünïcødé ✓ \u202e", "entry_point": "$$; select 1; $$"},
    )
    body = post(client, [event]).json()
    assert body["accepted"] == 1
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "select event, user_id from raw.raw_events where event_id = %s", [event["event_id"]]
        ).fetchone()
    assert stored == (event, sneaky)


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{not json", {"content-type": "application/json"}, 400),
        (b"[1,2]", {"content-type": "application/json"}, 400),
        (b'{"evnts": []}', {"content-type": "application/json"}, 400),
        (b'{"events": {"a": 1}}', {"content-type": "application/json"}, 400),
        (b'{"events": []}', {"content-type": "application/json"}, 400),
        (b"[" * 5000 + b"]" * 5000, {"content-type": "application/json"}, 400),
        (b"\xff\xfe{}", {"content-type": "application/json"}, 400),
        (b'{"events": [{}]}', {"content-type": "text/plain"}, 415),
        (b'{"events": [{}]}', {}, 415),
        (b'{"events": [{}]}', {"content-type": "application/json", "content-encoding": "br"}, 415),
        (b"not gzip", {"content-type": "application/json", "content-encoding": "gzip"}, 400),
    ],
    ids=[
        "not-json", "not-object", "no-events", "events-not-list", "events-empty", "too-deep",
        "bad-utf8", "text-plain", "no-content-type", "brotli", "broken-gzip",
    ],
)  # fmt: skip
def test_bad_requests_are_refused_and_nothing_is_stored(
    client: httpx.Client, database_url: str, content: bytes, headers: dict, status: int
) -> None:
    before = table_counts(database_url)
    response = client.post("/v1/events", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert table_counts(database_url) == before


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [("GET", "/v2/events", 404, None), ("GET", "/v1/events", 405, "POST")],
)
def test_unknown_paths_and_methods_answer_in_the_api_error_shape(
    client: httpx.Client, method: str, path: str, status: int, allow: str | None
) -> None:
    """The framework's own 404 and 405 have the `{"error"}` body every other error has."""
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json() == {"error": "Not Found" if status == 404 else "Method Not Allowed"}
    assert response.headers.get("allow") == allow


def test_size_limits_answer_413_and_store_nothing(
    client: httpx.Client, live: LiveServer, database_url: str
) -> None:
    limits = live.settings
    before = table_counts(database_url)
    too_many = [make_event() for _ in range(limits.max_events_per_batch + 1)]
    assert post(client, too_many).status_code == 413
    big_event = make_event(payload={"page_title": "x" * limits.max_event_bytes, "entry_point": "a"})
    assert post(client, [make_event(), big_event]).status_code == 413
    huge_body = b'{"events": [' + b" " * limits.max_body_bytes + b"]}"
    assert (
        client.post(
            "/v1/events", content=huge_body, headers={"content-type": "application/json"}
        ).status_code
        == 413
    )
    # A gzip bomb: ~1 KiB on the wire, 100 MiB inflated; refused without inflating it all.
    bomb = gzip.compress(b'{"events": [' + b" " * (100 * 1024 * 1024) + b"]}", 9)
    assert len(bomb) < limits.max_body_bytes
    response = client.post(
        "/v1/events",
        content=bomb,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 413 and "inflated" in response.json()["error"]
    assert table_counts(database_url) == before


def test_gzip_body_is_accepted(client: httpx.Client) -> None:
    events = [make_event() for _ in range(50)]
    response = client.post(
        "/v1/events",
        content=gzip.compress(orjson.dumps({"events": events})),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 200 and response.json()["accepted"] == 50


def test_health_ready_schemas_docs_and_metrics(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["status"] == "ready"
    contract = client.get("/v1/schemas").json()
    assert contract["accepts_schema_versions"] == "1.x.y"
    assert sorted(contract["payloads"]) == sorted(CATALOG)
    assert client.get("/docs").status_code == 200
    assert "/v1/events" in client.get("/openapi.json").json()["paths"]
    post(client, [make_event(), make_event(event_id="nope")])
    metrics = client.get("/metrics").text
    for outcome in ("received", "accepted", "deduped", "rejected"):
        assert f'wearable_events_total{{outcome="{outcome}"}}' in metrics
    assert 'wearable_http_request_duration_seconds_bucket{le="0.005",route="/v1/events"}' in metrics
    assert 'wearable_http_requests_total{route="/v1/events",status="200"}' in metrics


def test_one_json_log_line_per_request(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    def mine() -> list[logging.LogRecord]:
        return [r for r in caplog.records if getattr(r, "request_id", None) == "req-42"]

    with caplog.at_level(logging.INFO, logger="wearable_pipeline.events.requests"):
        response = post(client, [make_event()], headers={"x-request-id": "req-42"})
        # The line is written once the response is sent, in the server's thread.
        deadline = time.monotonic() + 5
        while not mine() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert response.headers["x-request-id"] == "req-42"
    [record] = mine()
    assert record.status == 200 and record.accepted == 1 and record.received == 1
    assert record.latency_ms > 0 and record.path == "/v1/events"


def test_api_keys_guard_writes(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(make_settings(database_url, tmp_path, api_keys="k1, k2"))
    try:
        before = table_counts(database_url)
        with server.client() as http:
            for headers in ({}, {"authorization": "Bearer wrong"}, {"x-api-key": "k3"}):
                response = post(http, [make_event()], headers=headers)
                assert response.status_code == 401, headers
                assert response.headers["www-authenticate"] == "Bearer"
            assert table_counts(database_url) == before
            assert (
                post(http, [make_event()], headers={"authorization": "Bearer k2"}).json()[
                    "accepted"
                ]
                == 1
            )
            assert post(http, [make_event()], headers={"x-api-key": "k1"}).json()["accepted"] == 1
            assert http.get("/health").status_code == 200  # reads stay open
    finally:
        server.stop()


def test_freeze_gc_moves_startup_objects_out_of_the_collector(api_settings: Settings) -> None:
    """`wearable serve` workers freeze what start-up made; the app serves the same after it."""
    import gc

    before = gc.get_freeze_count()
    server = start_server(api_settings, freeze_gc=True)
    try:
        assert gc.get_freeze_count() > before
        with server.client() as http:
            response = post(http, [make_event()])
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1
    finally:
        server.stop()
        gc.unfreeze()
