"""The event generator: deterministic, the CSV users, the whole catalog, every counter moves."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from wearable_pipeline.cli import app
from wearable_pipeline.config import PROJECT_ROOT
from wearable_pipeline.events.contract import CheckedEvent, load_contract
from wearable_pipeline.events.generator import PostError, generate_events, post_events
from wearable_pipeline.synth import synthetic_user_ids

CONTRACT = load_contract(PROJECT_ROOT / "schemas" / "events" / "v1")


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = list(generate_events(users=3, days=2, seed=7, duplicate_rate=0.1, invalid_rate=0.1))
    again = list(generate_events(users=3, days=2, seed=7, duplicate_rate=0.1, invalid_rate=0.1))
    other = list(generate_events(users=3, days=2, seed=8))
    assert first == again
    assert first != other


def test_clean_events_are_valid_cover_the_catalog_and_use_the_csv_user_ids() -> None:
    events = list(generate_events(users=20, days=30, seed=42))
    outcomes = [CONTRACT.check(event) for event in events]
    assert all(isinstance(outcome, CheckedEvent) for outcome in outcomes)
    assert Counter(e["event_name"] for e in events).keys() == set(CONTRACT.event_names)
    assert {e["user_id"] for e in events if "user_id" in e} == set(synthetic_user_ids(20, 42))
    assert any("timezone" in e for e in events) and any("timezone" not in e for e in events)
    assert any("user_id" not in e and "anonymous_id" in e for e in events)
    assert len({e["event_id"] for e in events}) == len(events)


def test_duplicate_and_invalid_rates() -> None:
    events = list(
        generate_events(users=10, days=10, seed=1, duplicate_rate=0.05, invalid_rate=0.05)
    )
    ids = Counter(e["event_id"] for e in events)
    duplicates = sum(count - 1 for count in ids.values())
    invalid = sum(isinstance(CONTRACT.check(e), list) for e in events)
    assert 0.02 * len(events) < duplicates < 0.08 * len(events)
    assert 0.02 * len(events) < invalid < 0.08 * len(events)


def test_post_events_retries_503_and_connection_errors_then_sums_counts() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused")
        if calls["n"] == 2:
            return httpx.Response(503, json={"error": "database unavailable"})
        size = len(json.loads(request.content)["events"])
        return httpx.Response(
            200, json={"received": size, "accepted": size, "deduped": 0, "rejected": 0}
        )

    sleeps: list[float] = []
    totals = post_events(
        "http://test/v1/events",
        ({"n": i} for i in range(12)),
        batch_size=5,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )
    assert totals == {"received": 12, "accepted": 12, "deduped": 0, "rejected": 0, "batches": 3}
    assert sleeps == [0.2, 0.4]


def test_post_events_does_not_retry_a_4xx() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"error": "key"}))
    with pytest.raises(PostError, match="401"):
        post_events("http://test/v1/events", [{}], transport=transport, sleep=lambda _: None)


def test_cli_out_writes_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        app, ["generate-events", "--users", "2", "--days", "2", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == list(generate_events(users=2, days=2, seed=3))


def sessions(events: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for event in events:
        grouped.setdefault(event["session_id"], []).append(event)
    return grouped


def test_signed_out_sessions_sign_in_part_way_as_segment_clients_do() -> None:
    events = list(generate_events(users=10, days=10, seed=3, anonymous_share=0.5))
    signed_out = 0
    for session in sessions(events).values():
        if "user_id" in session[0]:
            assert all("user_id" in event for event in session)
            assert all(event["event_name"] != "identify" for event in session)
            continue
        signed_out += 1
        [sign_in] = [i for i, event in enumerate(session) if event["event_name"] == "identify"]
        before, identify, after = session[:sign_in], session[sign_in], session[sign_in + 1 :]
        assert before and after
        assert all("user_id" not in event for event in before)  # only the anonymous id
        user = identify["user_id"]
        anonymous = identify["anonymous_id"]  # the identify carries both: the stitching key
        assert {event["anonymous_id"] for event in session} == {anonymous}
        assert {event["user_id"] for event in after} == {user}
        assert [e["client_ts"] for e in session] == sorted(e["client_ts"] for e in session)
    assert 0.35 < signed_out / len(sessions(events)) < 0.65
    # a new device per signed-out session: its anonymous id was never seen signed in before
    first_seen: dict[str, bool] = {}
    for event in events:
        first_seen.setdefault(event["anonymous_id"], "user_id" in event)
    assert not all(first_seen.values()) and any(first_seen.values())


def test_anonymous_share_zero_and_one() -> None:
    never = list(generate_events(users=3, days=3, seed=2, anonymous_share=0))
    assert all("user_id" in event for event in never)
    always = list(generate_events(users=3, days=3, seed=2, anonymous_share=1))
    assert all("user_id" not in session[0] for session in sessions(always).values())
    with pytest.raises(ValueError, match="anonymous_share"):
        next(generate_events(users=1, days=1, seed=1, anonymous_share=1.5))


def test_cli_default_share_is_the_generators() -> None:
    import inspect

    from wearable_pipeline.commands.events import generate_events_command
    from wearable_pipeline.events.generator import DEFAULT_ANONYMOUS_SHARE

    option = inspect.signature(generate_events_command).parameters["anonymous_share"].default
    assert option.default == DEFAULT_ANONYMOUS_SHARE  # the CLI does not import the generator
