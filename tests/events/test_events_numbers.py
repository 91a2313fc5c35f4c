"""Stored as sent: numbers a double cannot hold keep their exact text, in both tables."""

from __future__ import annotations

from decimal import Decimal

import httpx
import orjson
import psycopg
import pytest

from wearable_pipeline.events import exactjson, pg_numbers

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


def test_a_number_postgresql_cannot_hold_is_rejected_and_kept_not_the_batch_lost(
    client: httpx.Client, database_url: str
) -> None:
    """jsonb's numeric holds 131,072 digits before the point and 16,383 after: an event with
    a number beyond (`1e200000`, `1e-20000`) is rejected naming it, and kept - as a string
    in `event`, exactly in `event_bytes` - while the good event beside it is accepted."""
    good = make_event()
    huge = make_event(received_at=["@huge"])  # valid but for the number
    tiny = make_event(surprise="@tiny")  # invalid anyway: its row must still be storable
    text = b",".join(orjson.dumps(event) for event in (good, huge, tiny))
    text = text.replace(b'"@huge"', b"1e200000").replace(b'"@tiny"', b"1e-20000")
    response = client.post(
        "/events",
        content=b'{"events":[' + text + b"]}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 2)
    [huge_error] = [e for e in body["errors"] if e["index"] == 1]
    assert [reason["path"] for reason in huge_error["errors"]] == ["/received_at/0"]
    assert "beyond what PostgreSQL can store" in huge_error["errors"][0]["message"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select event->'received_at'->>0, event->>'surprise', event_bytes"
            " from raw.rejected_events where event_id in (%s, %s) order by event_index",
            [huge["event_id"], tiny["event_id"]],
        ).fetchall()
        accepted = conn.execute(
            "select count(*) from raw.raw_events where event_id = %s", [good["event_id"]]
        ).fetchone()
    assert accepted == (1,)
    [(huge_text, _, huge_bytes), (_, tiny_text, tiny_bytes)] = rows
    assert Decimal(huge_text) == Decimal("1e200000") and Decimal(tiny_text) == Decimal("1e-20000")
    assert exactjson.loads(bytes(huge_bytes))["received_at"] == [Decimal("1e200000")]
    assert exactjson.loads(bytes(tiny_bytes))["surprise"] == Decimal("1e-20000")


@pytest.mark.parametrize(
    "literal",
    ["1e-16383", "1e-16384", "1.5e-16383", "0e-20000", "1e131071", "9.9e131071", "1e131072",
     "-1e200000", "0e200000", "12.5"],
)  # fmt: skip
def test_the_range_is_postgresqls_own(database_url: str, literal: str) -> None:
    """What `pg_numbers` calls unstorable is exactly what PostgreSQL's jsonb refuses."""
    with psycopg.connect(database_url) as conn:
        try:
            conn.execute("select %s::jsonb", [literal])
            stored = True
        except psycopg.errors.NumericValueOutOfRange:
            stored = False
    assert pg_numbers.is_unstorable(Decimal(literal)) is not stored
