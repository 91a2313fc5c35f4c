"""The seed's clients work unchanged: `POST /events`, optional fields sent as null."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.contract import load_contract

from .helpers import make_event, make_settings, start_server

CONTRACT = load_contract(PROJECT_ROOT / "schemas" / "events" / "v1")
ENVELOPE = CONTRACT.envelope_schema
OPTIONAL = sorted(set(ENVELOPE["properties"]) - set(ENVELOPE["required"]))
REQUIRED = list(ENVELOPE["required"])


def seed_shaped_events(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """What a client written to the seed's contract sends: every catalog event, `referrer`
    and `device_id` null, one event in five anonymous (`user_id` null, an `anonymous_id`)."""
    events = []
    for index in range(count):
        event = make_event(CONTRACT.event_names[index % len(CONTRACT.event_names)])
        event.update(referrer=None, device_id=None, page="/dashboard", session_id="s-1")
        if rng.random() < 0.2:
            event.update(user_id=None, anonymous_id=f"anon-{rng.randrange(10**6)}")
        events.append(event)
    return events


@pytest.mark.parametrize("path", ["/events", "/v1/events"])
def test_a_seed_shaped_client_gets_every_valid_event_accepted_and_stored_as_sent(
    client: httpx.Client, database_url: str, path: str
) -> None:
    events = seed_shaped_events(150, random.Random(path))
    assert any(e["user_id"] is None for e in events) and any(e["user_id"] for e in events)
    response = client.post(path, json={"events": events})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (150, 150, 0), body
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select event_id::text, user_id, anonymous_id, event from raw.raw_events"
            " where batch_id = %s",
            [body["batch_id"]],
        ).fetchall()
    stored = {row[0]: row[1:] for row in rows}
    for event in events:
        user_id, anonymous_id, as_stored = stored[event["event_id"]]
        assert as_stored == event  # nulls and all: the event as sent
        assert (user_id, anonymous_id) == (event["user_id"], event.get("anonymous_id"))


def test_the_alias_is_the_same_endpoint_in_openapi_and_in_the_metrics(
    client: httpx.Client,
) -> None:
    spec = client.get("/openapi.json").json()
    assert (
        spec["paths"]["/events"]["post"]["requestBody"]
        == (spec["paths"]["/v1/events"]["post"]["requestBody"])
    )
    before = client.get("/metrics").text
    event = make_event()
    first = client.post("/events", json={"events": [event]}).json()
    again = client.post("/v1/events", json={"events": [event]}).json()  # dedupe spans both
    assert (first["accepted"], again["deduped"]) == (1, 1)
    after = client.get("/metrics").text
    assert 'route="/events"' not in after
    assert _sample(after, 'wearable_http_requests_total{route="/v1/events",status="200"}') == (
        _sample(before, 'wearable_http_requests_total{route="/v1/events",status="200"}') + 2
    )


def test_a_client_without_a_key_gets_401_on_the_alias_too(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(make_settings(database_url, tmp_path, api_keys="k1"))
    try:
        with server.client() as http:
            refused = http.post("/events", json={"events": [make_event()]})
            assert refused.status_code == 401 and refused.json()["error"]
            allowed = http.post(
                "/events", json={"events": [make_event()]}, headers={"x-api-key": "k1"}
            )
            assert allowed.status_code == 200 and allowed.json()["accepted"] == 1
    finally:
        server.stop()


@pytest.mark.parametrize("field", OPTIONAL)
def test_every_optional_envelope_field_may_be_null(client: httpx.Client, field: str) -> None:
    # Whichever of user_id and anonymous_id is null, the other one carries the identity.
    event = make_event(**{"anonymous_id": "anon-7", field: None})
    response = client.post("/events", json={"events": [event]})
    assert response.json()["accepted"] == 1, response.text


@pytest.mark.parametrize("field", REQUIRED)
def test_a_required_field_sent_as_null_is_rejected_with_a_clear_reason(
    client: httpx.Client, database_url: str, field: str
) -> None:
    event = make_event(**{field: None})
    body = client.post("/events", json={"events": [event]}).json()
    assert body["rejected"] == 1
    reasons = body["errors"][0]["errors"]
    [mine] = [reason["message"] for reason in reasons if reason["path"] == f"/{field}"]
    assert mine.startswith(f"{field} is required and may not be null; send a")
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "select event from raw.rejected_events where batch_id = %s", [body["batch_id"]]
        ).fetchone()
    assert stored == (event,)


def test_null_ids_on_both_sides_are_no_identity(client: httpx.Client) -> None:
    body = client.post(
        "/events", json={"events": [make_event(user_id=None, anonymous_id=None)]}
    ).json()
    assert body["errors"][0]["errors"] == [
        {"path": "", "message": "at least one of user_id or anonymous_id is required"}
    ]


def test_a_required_payload_field_sent_as_null_is_rejected(client: httpx.Client) -> None:
    event = make_event("perf_lcp", payload={"lcp_ms": None, "page_type": "dashboard"})
    body = client.post("/events", json={"events": [event]}).json()
    message = "lcp_ms is required and may not be null; send a number"
    assert body["errors"][0]["errors"] == [{"path": "/payload/lcp_ms", "message": message}]


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
