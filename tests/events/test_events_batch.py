"""The batch rules without HTTP: nesting depth, the any-depth encoder, the NUL walk."""

from __future__ import annotations

import orjson
import pytest

from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.batch import (
    MAX_EVENT_DEPTH,
    TOO_DEEP_MESSAGE,
    dumps_any_depth,
    prepare_batch,
)
from wearable_pipeline.events.contract import contains_nul, load_contract

from .helpers import make_event

CONTRACT = load_contract(PROJECT_ROOT / "schemas" / "events" / "v1")


def nested(levels: int) -> object:
    """`levels` arrays, one inside the other (built by the parser, not by recursion)."""
    return orjson.loads("[" * levels + "]" * levels)


def test_the_depth_limit_is_where_orjson_stops() -> None:
    # received_at may hold anything (the server ignores it): the event object is level 1,
    # so arrays nested MAX_EVENT_DEPTH - 1 deep make an event exactly at the limit.
    at_limit = make_event(received_at=nested(MAX_EVENT_DEPTH - 1))
    past_limit = make_event(received_at=nested(MAX_EVENT_DEPTH))
    batch = prepare_batch([at_limit, past_limit], CONTRACT, max_event_bytes=32 * 1024)
    assert [row.checked.event_id for row in batch.valid] == [at_limit["event_id"]]
    [rejected] = batch.rejected
    assert rejected.index == 1 and rejected.event_id == past_limit["event_id"]
    assert [error.as_dict() for error in rejected.errors] == [
        {"path": "", "message": TOO_DEEP_MESSAGE}
    ]
    assert orjson.loads(rejected.event_json) == past_limit and rejected.event_bytes is None


@pytest.mark.parametrize("levels", [255, 300, 1022])
def test_a_too_deep_event_is_rejected_not_raised(levels: int) -> None:
    event = make_event(payload={"page_title": "a", "entry_point": "b", "deep": nested(levels)})
    batch = prepare_batch([event], CONTRACT, max_event_bytes=32 * 1024)
    assert batch.valid == []
    [rejected] = batch.rejected
    assert rejected.errors[0].path == "" and str(MAX_EVENT_DEPTH) in rejected.errors[0].message
    text = '"deep":' + "[" * levels + "]" * levels
    assert text in rejected.event_json


def test_a_too_deep_event_with_nul_keeps_the_exact_bytes() -> None:
    event = make_event(user_id="a\x00b", received_at=nested(600))
    [rejected] = prepare_batch([event], CONTRACT, max_event_bytes=32 * 1024).rejected
    assert '"user_id":"a\\ufffdb"' in rejected.event_json
    assert rejected.event_bytes is not None and b'"user_id":"a\\u0000b"' in rejected.event_bytes


def test_a_too_deep_event_over_the_size_limit_is_still_413() -> None:
    from wearable_pipeline.events.batch import BatchTooLargeError

    event = make_event(page="x" * 40_000, received_at=nested(300))
    with pytest.raises(BatchTooLargeError):
        prepare_batch([event], CONTRACT, max_event_bytes=32 * 1024)


@pytest.mark.parametrize(
    "value",
    [
        None, True, 0, -1.5e300, "", "日本語 \u2028 \x00 \\u0000 \"q\"", [], {}, [[], {}],
        {"a": [1, {"b": None, "": "é"}], "z": {"k": [True, False, 1.0]}},
        make_event(), nested(200),
    ],
)  # fmt: skip
def test_dumps_any_depth_writes_what_orjson_writes(value: object) -> None:
    assert dumps_any_depth(value) == orjson.dumps(value)


def test_dumps_any_depth_and_contains_nul_go_past_the_recursion_limit() -> None:
    text = '{"a":' + "[" * 1023 + '"x\\u0000"' + "]" * 1023 + "}"
    value = orjson.loads(text)
    assert dumps_any_depth(value) == text.encode()
    assert contains_nul(value)
    assert not contains_nul(orjson.loads(text.replace("\\u0000", "y")))
    assert contains_nul({"k\x00": 1}) and not contains_nul({"k": [1, 2.0, None, "v"]})
