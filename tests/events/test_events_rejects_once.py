"""Rejected events are stored once per (event id, content): retries add no copies."""

from __future__ import annotations

import importlib
import uuid

import httpx
import orjson
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from .helpers import make_event

# The module (`wearable_pipeline.db` exports its `migrate` function under the same name).
migrations = importlib.import_module("wearable_pipeline.db.migrate")


def stored_rejects(url: str, event_ids: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select event_id, count(*) from raw.rejected_events"
            " where event_id = any(%s) group by event_id",
            [event_ids],
        ).fetchall()
    return dict(rows)


def test_a_retried_committed_request_stores_each_rejected_event_once(
    client: httpx.Client, database_url: str
) -> None:
    bad = [make_event(event_id=f"bad-{uuid.uuid4().hex[:8]}") for _ in range(3)]
    events = [make_event(), *bad, make_event("identify")]
    body = orjson.dumps({"events": events})  # the very same bytes, sent twice
    headers = {"content-type": "application/json"}
    first = client.post("/events", content=body, headers=headers).json()
    retry = client.post("/events", content=body, headers=headers).json()
    assert (first["accepted"], first["deduped"], first["rejected"]) == (2, 0, 3)
    assert (retry["accepted"], retry["deduped"], retry["rejected"]) == (0, 2, 3)
    assert retry["errors"] == first["errors"]  # the client still learns why, each time
    ids = [event["event_id"] for event in bad]
    assert stored_rejects(database_url, ids) == dict.fromkeys(ids, 1)
    with psycopg.connect(database_url) as conn:  # every request recorded as it was
        batches = conn.execute(
            "select received, accepted, deduped, rejected from ops.ingest_batches"
            " where batch_id = any(%s::uuid[]) order by received_at",
            [[first["batch_id"], retry["batch_id"]]],
        ).fetchall()
    assert batches == [(5, 2, 0, 3), (5, 0, 2, 3)]


def test_once_per_content_within_a_batch_and_without_an_event_id(
    client: httpx.Client, database_url: str
) -> None:
    marker = uuid.uuid4().hex
    no_id = {k: v for k, v in make_event(page=f"/{marker}").items() if k != "event_id"}
    same_id = f"bad-{marker}"
    twin_a = make_event(event_id=same_id, page="/a")
    twin_b = make_event(event_id=same_id, page="/b")  # same id, other content: both kept
    events = [no_id, no_id, twin_a, twin_a, twin_b]
    answer = client.post("/events", json={"events": events}).json()
    assert answer["rejected"] == 5
    client.post("/events", json={"events": [no_id]})
    with psycopg.connect(database_url) as conn:
        without_id = conn.execute(
            "select count(*) from raw.rejected_events where event ->> 'page' = %s",
            [f"/{marker}"],
        ).fetchone()
    assert without_id == (1,)
    assert stored_rejects(database_url, [same_id]) == {same_id: 2}


def test_migration_0006_keeps_the_first_of_each_copy_in_an_old_database(
    pg_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dbname = f"t_rejects_once_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = make_conninfo(pg_admin_url, dbname=dbname)
    every = migrations.available_migrations()
    before = [m for m in every if m.version < 6]
    try:
        with psycopg.connect(url) as conn:
            monkeypatch.setattr(migrations, "available_migrations", lambda: before)
            migrations.migrate(conn)  # a database as it was before 0006
            monkeypatch.undo()
            insert = (
                "insert into raw.rejected_events"
                " (batch_id, event_index, event_id, event, event_bytes, errors)"
                " values (%s, %s, %s, %s, %s, '[]')"
            )
            first, retry = uuid.uuid4(), uuid.uuid4()
            rows = [
                (first, 0, "e1", '{"a": 1}', None),
                (first, 1, None, '{"b": 2}', None),
                (first, 2, "e1", '{"a": 2}', None),  # same id, other content
                (first, 3, "e3", '{"c": "\ufffd"}', b'{"c":"\\u0000"}'),
                (first, 4, "e3", '{"c": "\ufffd"}', None),  # differs only in exact bytes
                (retry, 0, "e1", '{"a": 1}', None),  # the retried request's copies
                (retry, 1, None, '{"b": 2}', None),
                (retry, 3, "e3", '{"c": "\ufffd"}', b'{"c":"\\u0000"}'),
            ]
            for row in rows:
                conn.execute(insert, row)
            conn.commit()
            applied = migrations.migrate(conn)
            kept = conn.execute(
                "select batch_id, event_index from raw.rejected_events order by event_index"
            ).fetchall()
            assert applied[0] == "0006_rejected_events_once"  # and any later ones
            assert kept == [(first, index) for index in range(5)]
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(insert, (retry, 9, None, '{"b": 2}', None))
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))


def test_an_event_id_of_any_length_is_rejected_and_kept_beside_good_events(
    client: httpx.Client, database_url: str
) -> None:
    """A 4,000-character id must not fail the batch (a unique index entry holds ~2.7 kB)."""
    long_id = f"bad-{uuid.uuid4().hex}-" + "x" * 4000
    good = make_event()
    response = client.post("/v1/events", json={"events": [good, make_event(event_id=long_id)]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["index"] == 1
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "select event_id, event->>'event_id' from raw.rejected_events where event_id = %s",
            [long_id[:200]],
        ).fetchall()
        kept = conn.execute(
            "select count(*) from raw.raw_events where event_id = %s", [good["event_id"]]
        ).fetchone()
    assert stored == [(long_id[:200], long_id)]  # found by its first characters, kept whole
    assert kept == (1,)
