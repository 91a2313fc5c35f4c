"""The store: the batch statement's parameters (the JSON document Postgres reads the rows
from), and `copy_events`, the bulk COPY path for already-valid events."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import orjson
import psycopg
import pytest

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.batch import prepare_batch
from wearable_pipeline.events.contract import load_contract
from wearable_pipeline.events.store import batch_params, copy_events

from .helpers import make_event

CLIENT_TS = [
    "2024-01-01T08:30:00Z",
    "2024-01-01t08:30:00.123z",
    "2024-01-01T08:30:00.123456789+05:30",
    "2024-01-01T08:30:00-00:00",
    "0001-01-01T00:00:00+01:00",
]


@pytest.mark.parametrize("client_ts", CLIENT_TS)
def test_rows_carry_the_event_bytes_and_client_ts_in_iso_form(client_ts: str) -> None:
    contract = load_contract(PROJECT_ROOT / "schemas" / "events" / "v1")
    event = make_event(client_ts=client_ts)
    batch = prepare_batch([event], contract, max_event_bytes=32 * 1024)
    params = batch_params(batch, batch_id=uuid.uuid4(), request_id="r", started=time.perf_counter())
    (row,) = orjson.loads(params["rows"].dumps(params["rows"].obj))
    assert row["client_ts"] == batch.valid[0].checked.client_ts.isoformat()
    assert row["event"] == event
    assert row["event_id"] == event["event_id"].lower()


def test_copy_events_stores_rows_as_the_api_does_and_dedupes(database_url: str) -> None:
    first, second = make_event(), make_event("identify", anonymous_id="anon-1")
    repeat = dict(first, event_id=first["event_id"].upper())  # same id, other spelling
    batch_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        assert copy_events(conn, [first, second, repeat], batch_id=batch_id) == 2
        # already stored ids are skipped too; a datetime stamps every row
        at = datetime(2024, 2, 1, 12, tzinfo=UTC)
        third = make_event(client_ts="2024-01-31T23:00:00-05:00")
        assert copy_events(conn, [second, third], batch_id=batch_id, received_at=at) == 1
        rows = conn.execute(
            "select event_id::text, event_name, schema_version, user_id, anonymous_id,"
            " client_ts, received_at, batch_id, event from raw.raw_events where batch_id = %s",
            [batch_id],
        ).fetchall()
    stored = {row[0]: row for row in rows}
    assert set(stored) == {first["event_id"], second["event_id"], third["event_id"]}
    assert stored[first["event_id"]][8] == first  # the first of a repeated id wins
    assert stored[second["event_id"]][1:5] == ("identify", "1.0.0", "1503960366", "anon-1")
    assert stored[third["event_id"]][5] == datetime(2024, 2, 1, 4, tzinfo=UTC)
    assert stored[third["event_id"]][6] == at
    assert stored[first["event_id"]][6] > at  # None: the database's now()


def test_copy_events_without_dedupe_is_a_plain_copy(database_url: str) -> None:
    events = [make_event() for _ in range(3)]
    batch_id = uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        stamp = copy_events(
            conn,
            events,
            batch_id=batch_id,
            received_at=lambda event: datetime.fromisoformat(event["client_ts"]),
            dedupe=False,
        )
        assert stamp == 3
        with pytest.raises(psycopg.errors.UniqueViolation):
            copy_events(conn, [make_event(), events[0]], batch_id=batch_id, dedupe=False)
        received = conn.execute(
            "select received_at from raw.raw_events where batch_id = %s", [batch_id]
        ).fetchall()
    assert received == [(datetime.fromisoformat(events[0]["client_ts"]),)] * 3  # nothing half-kept
