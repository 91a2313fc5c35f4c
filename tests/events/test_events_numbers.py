"""Stored as sent: numbers a double cannot hold keep their exact text, in both tables."""

from __future__ import annotations

from decimal import Decimal

import httpx
import orjson
import psycopg
import pytest

from wearable_pipeline.events import exactjson

from .helpers import make_event

BIG_INT = "123456789012345678901234567890"  # beyond 64 bits
LONG_DECIMAL = "0.12345678901234567890123"  # more digits than a double
TINY = "1e-400"  # below the smallest double: would become 0


def body_with(event: dict, **numbers: str) -> bytes:
    """The event as JSON text with `numbers` placed into its payload verbatim."""
    text = orjson.dumps(event)
    for name, number in numbers.items():
        text = text.replace(f'"@{name}"'.encode(), number.encode())
    return b'{"events":[' + text + b"]}"


def test_an_accepted_event_keeps_every_digit(client: httpx.Client, database_url: str) -> None:
    event = make_event(
        "goal_created",
        payload={"metric_type": "steps", "target_value": "@v", "target_unit": "steps",
                 "date_range": "day"},
        received_at=["@big", "@tiny"],
    )  # fmt: skip
    body = body_with(event, v=LONG_DECIMAL, big=BIG_INT, tiny=TINY)
    response = client.post("/events", content=body, headers={"content-type": "application/json"})
    assert response.json()["accepted"] == 1, response.text
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "select event #>> '{payload,target_value}', event #>> '{received_at,0}',"
            " (event #>> '{received_at,1}')::numeric = 1e-400"
            " from raw.raw_events where event_id = %s",
            [event["event_id"]],
        ).fetchone()
    assert stored == (LONG_DECIMAL, BIG_INT, True)


def test_a_rejected_event_keeps_every_digit(client: httpx.Client, database_url: str) -> None:
    event = make_event(colour="@big")  # unknown field: rejected, kept as sent
    event["payload"]["ratio"] = "@long"
    body = body_with(event, big=BIG_INT, long=LONG_DECIMAL)
    answer = client.post(
        "/v1/events", content=body, headers={"content-type": "application/json"}
    ).json()
    assert answer["rejected"] == 1
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "select event ->> 'colour', event #>> '{payload,ratio}' from raw.rejected_events"
            " where batch_id = %s",
            [answer["batch_id"]],
        ).fetchone()
    assert stored == (BIG_INT, LONG_DECIMAL)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (BIG_INT, int(BIG_INT)),
        ("-" + BIG_INT, -int(BIG_INT)),
        (LONG_DECIMAL, Decimal(LONG_DECIMAL)),
        (TINY, Decimal(TINY)),
        ("1e400", Decimal("1e400")),
        ("18446744073709551615", 18446744073709551615),  # u64: orjson holds it
        ("1234.5", 1234.5),
        ("0.1", 0.1),
    ],
)
def test_loads_holds_numbers_exactly_and_dumps_writes_them_back(text: str, value: object) -> None:
    parsed = exactjson.loads(b'{"n": [' + text.encode() + b"]}")
    [number] = parsed["n"]
    assert number == value and type(number) in (int, float, Decimal, exactjson.ExactInt)
    written = exactjson.dumps(parsed)
    assert written.startswith(b'{"n":[') and written.endswith(b"]}")
    assert Decimal(written[6:-2].decode()) == Decimal(text)  # the same number, every digit


def test_ordinary_bodies_take_the_fast_path() -> None:
    from wearable_pipeline.events.generator import generate_events

    events = list(generate_events(users=5, days=5, seed=1))
    raw = orjson.dumps({"events": events})
    assert not exactjson.may_hold_inexact_numbers(raw)  # UUIDs' "e-123…" are not exponents
    assert exactjson.may_hold_inexact_numbers(b'{"a": 1234567890123456}')
    assert exactjson.may_hold_inexact_numbers(b'{"a": [1.5e-400]}')


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"a": 1e400, "b": Infinity}', b'{"a": 1e400'])
def test_what_is_not_json_stays_refused(text: bytes) -> None:
    with pytest.raises(exactjson.JsonError):
        exactjson.loads(text)


def test_a_body_deeper_than_the_exact_parser_keeps_orjsons_reading() -> None:
    """Past Python's recursion limit (orjson goes to 1,024 levels) the one documented loss."""
    deep = b"[" * 1000 + b"123456789012345678901234567890" + b"]" * 1000
    value = exactjson.loads(deep)
    for _ in range(1000):
        [value] = value
    assert value == float(BIG_INT)
