"""Faults: concurrent writers with overlapping ids; the database going away and coming back."""

from __future__ import annotations

import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from wearable_pipeline.db.migrate import applied_migrations, migrate, migrate_once
from wearable_pipeline.events.startup_migrations import SchemaState, apply_migrations

from .helpers import LiveServer, make_event, make_settings, start_server


def test_eight_concurrent_clients_with_overlapping_ids_store_each_event_once(
    live: LiveServer, database_url: str
) -> None:
    pool = [str(uuid.uuid4()) for _ in range(600)]  # every client draws from the same ids

    sent: set[str] = set()

    def client_run(seed: int) -> list[dict]:
        rng = random.Random(seed)
        answers = []
        with live.client() as http:
            for _ in range(6):
                events = [make_event(event_id=rng.choice(pool)) for _ in range(150)]
                sent.update(event["event_id"] for event in events)
                events += [make_event(event_id="bad") for _ in range(rng.randint(0, 3))]
                response = http.post("/v1/events", json={"events": events})
                assert response.status_code == 200, response.text
                answers.append(response.json())
        return answers

    with ThreadPoolExecutor(8) as executor:
        answers = [a for batch in executor.map(client_run, range(8)) for a in batch]

    for answer in answers:
        assert answer["accepted"] + answer["deduped"] + answer["rejected"] == answer["received"]
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "select count(*), count(distinct event_id) from raw.raw_events"
            " where event_id = any(%s::uuid[])",
            [pool],
        ).fetchone()
        batch_ids = [a["batch_id"] for a in answers]
        durable = conn.execute(
            "select sum(received), sum(accepted), sum(deduped), sum(rejected)"
            " from ops.ingest_batches where batch_id = any(%s::uuid[])",
            [batch_ids],
        ).fetchone()
    accepted = sum(a["accepted"] for a in answers)
    assert stored[0] == stored[1] == accepted  # each distinct id stored exactly once
    assert accepted == len(sent)
    assert durable == tuple(
        sum(a[k] for a in answers) for k in ("received", "accepted", "deduped", "rejected")
    )


def test_database_down_means_503_then_recovery_without_restart(
    own_postgres: Any, tmp_path: Path
) -> None:
    url = own_postgres.get_uri()
    with psycopg.connect(url) as conn:
        migrate(conn)
    server = start_server(make_settings(url, tmp_path))
    try:
        with server.client() as http:
            assert http.get("/ready").status_code == 200
            assert http.post("/v1/events", json={"events": [make_event()]}).status_code == 200

            own_postgres.stop()
            lost = make_event()
            started = time.monotonic()
            response = http.post("/v1/events", json={"events": [lost]})
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert time.monotonic() - started < 10
            ready = http.get("/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            assert http.get("/health").status_code == 200
            assert "wearable_database_unavailable_total 1.0" in http.get("/metrics").text

            own_postgres.start()
            deadline = time.monotonic() + 30
            while True:  # the pool reconnects by itself; the service is never restarted
                response = http.post("/v1/events", json={"events": [lost]})
                if response.status_code == 200 or time.monotonic() > deadline:
                    break
                assert response.status_code == 503
                time.sleep(0.5)
            assert response.status_code == 200 and response.json()["accepted"] == 1
            assert http.get("/ready").status_code == 200
        with psycopg.connect(url) as conn:
            count = conn.execute(
                "select count(*) from raw.raw_events where event_id = %s", [lost["event_id"]]
            ).fetchone()
        assert count == (1,)
    finally:
        server.stop()


def test_service_starts_while_the_database_is_down(
    own_postgres: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_postgres.get_uri()
    with psycopg.connect(url) as conn:
        migrate(conn)
    own_postgres.stop()
    server = start_server(make_settings(url, tmp_path))
    try:
        with server.client() as http:
            assert http.get("/health").status_code == 200
            with caplog.at_level(logging.WARNING, logger="wearable_pipeline.events.api"):
                ready = http.get("/ready")
            assert ready.status_code == 503
            # Nothing about hosts or sockets for unauthenticated callers: that is in the log.
            assert ready.json() == {"status": "unavailable", "database": "unreachable"}
            assert str(conninfo_to_dict(url)["host"]) not in ready.text
            [record] = [r for r in caplog.records if r.getMessage().startswith("not ready")]
            assert record.error  # type: ignore[attr-defined]
            own_postgres.start()
            deadline = time.monotonic() + 30
            while http.get("/ready").status_code != 200:
                assert time.monotonic() < deadline, "the service did not notice the database"
                time.sleep(0.3)
            assert http.post("/v1/events", json={"events": [make_event()]}).status_code == 200
    finally:
        server.stop()


def test_service_applies_the_migrations_of_a_fresh_database(
    pg_admin_url: str, tmp_path: Path
) -> None:
    """`uvicorn --factory …app_from_env` on an unmigrated database: no 500 for a missing table."""
    dbname = f"t_unmigrated_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = make_conninfo(pg_admin_url, dbname=dbname)
    server = start_server(make_settings(url, tmp_path))
    try:
        with server.client() as http:
            assert http.get("/ready").json() == {"status": "ready", "database": "ok"}
            response = http.post("/v1/events", json={"events": [make_event()]})
            assert response.status_code == 200, response.text
            assert response.json()["accepted"] == 1
        with psycopg.connect(url) as conn:
            assert applied_migrations(conn)
    finally:
        server.stop()
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))


def test_the_lifespan_does_not_migrate_again_what_this_process_migrated(
    pg_admin_url: str,
) -> None:
    """`wearable serve` migrates before uvicorn starts; the app's lifespan in the same
    process then finds it done without touching the database (here: gone in between)."""
    dbname = f"t_once_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = make_conninfo(pg_admin_url, dbname=dbname)
    try:
        assert migrate_once(url)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))
    schema = SchemaState()
    apply_migrations(url, schema)
    assert schema.applied and schema.failed is None


def test_a_role_that_may_not_migrate_is_a_failure_not_an_unreachable_database(
    pg_admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Waiting will not give a role the right to create the `ops` schema: reported once as a
    failure (writes 503 until fixed), not retried for ever as "database unreachable"."""
    dbname, role = f"t_role_{uuid.uuid4().hex[:8]}", f"t_writer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
        admin.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    try:
        with psycopg.connect(make_conninfo(pg_admin_url, dbname=dbname)) as conn:
            migrate(conn)  # by its owner: the writer's role only reads and writes
        schema = SchemaState()
        with caplog.at_level(logging.ERROR, logger="wearable_pipeline.events"):
            apply_migrations(make_conninfo(pg_admin_url, dbname=dbname, user=role), schema)
        assert not schema.applied
        assert schema.failed is not None and "permission denied" in schema.failed
        assert [r.getMessage() for r in caplog.records] == [
            "migrations failed; writes answer 503 until fixed"
        ]
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
