"""The batch statement's parameters: the JSON document Postgres reads the rows from."""

from __future__ import annotations

import time
import uuid

import orjson
import pytest

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.batch import prepare_batch
from wearable_pipeline.events.contract import load_contract
from wearable_pipeline.events.store import batch_params

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
