"""Writing one checked batch, and reading the durable totals.

A request becomes ONE SQL statement: data-modifying CTEs insert the accepted events
(`on conflict (event_id) do nothing` — dedupe lives in the database, so it holds across
requests, workers and replicas), the rejected events (once per event id and content, so a
retried request adds no copy), and the `ops.ingest_batches` row: `accepted` is what the
insert returned, `rejected` every rejected event of the request, whether or not an earlier
request had already stored it. One statement in autocommit mode is one transaction and one
round trip: when it returns, everything is committed, or nothing is.

`copy_events` is the other way in, for bulk backfills and benchmarks only: COPY of events
known to be valid, without the contract check.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from wearable_pipeline.events.batch import PreparedBatch

# The rows travel as ONE JSON document per table rather than one array parameter per column:
# psycopg spends ~45 µs per string building a text[] literal (23 ms for 500 events), while
# Postgres parses the same JSON document in ~2 ms. Measured numbers in the issue note.
WRITE_BATCH_SQL = """
with inserted as (
    insert into raw.raw_events
        (event_id, event_name, schema_version, user_id, anonymous_id, client_ts,
         received_at, batch_id, event)
    select event_id, event_name, schema_version, user_id, anonymous_id, client_ts,
           now(), %(batch_id)s, event
    from rows from (
        jsonb_to_recordset(%(rows)s::jsonb)
            as (event_id uuid, event_name text, schema_version text, user_id text,
                anonymous_id text, client_ts timestamptz, event jsonb)
    ) with ordinality
         as r(event_id, event_name, schema_version, user_id, anonymous_id, client_ts, event, ord)
    -- the rows come sorted by event_id: one lock order for all writers, no deadlocks
    order by ord
    on conflict (event_id) do nothing
    returning 1
),
rejected as (
    insert into raw.rejected_events
        (batch_id, event_index, event_id, event, event_bytes, errors, received_at)
    -- a JSON null event comes out of the recordset as SQL NULL: store it as JSON null
    select %(batch_id)s, event_index, event_id, coalesce(event, 'null'::jsonb),
           decode(event_b64, 'base64'), errors, now()
    from jsonb_to_recordset(%(rejects)s::jsonb)
         as r(event_index int, event_id text, event jsonb, event_b64 text, errors jsonb)
    -- one lock order for all writers, as for the accepted events
    order by event_id, event, event_index
    -- stored once per (event id, content): a retried request adds no copy (migration 0006)
    on conflict (event_id, content_md5) do nothing
),
counted as (
    select (select count(*) from inserted)::int as accepted
)
insert into ops.ingest_batches
    (batch_id, request_id, received_at, received, accepted, deduped, rejected, duration_ms)
select %(batch_id)s, %(request_id)s, now(), %(received)s, accepted,
       %(received)s - accepted - %(rejected)s, %(rejected)s,
       %(elapsed_ms)s + 1000 * extract(epoch from clock_timestamp() - now())
from counted
returning accepted, deduped, rejected
"""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one request did; `accepted + deduped + rejected == received` always."""

    batch_id: uuid.UUID
    received: int
    accepted: int
    deduped: int
    rejected: int

    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "deduped": self.deduped,
            "rejected": self.rejected,
        }


def batch_params(
    batch: PreparedBatch, *, batch_id: uuid.UUID, request_id: str, started: float
) -> dict[str, Any]:
    """The parameters of WRITE_BATCH_SQL: the accepted and the rejected rows as jsonb.

    Each event is embedded as the bytes it was already serialised to (`orjson.Fragment`), so
    nothing is encoded twice.
    """
    rows = [
        {
            "event_id": row.checked.event_id,
            "event_name": row.checked.event_name,
            "schema_version": row.checked.schema_version,
            "user_id": row.checked.user_id,
            "anonymous_id": row.checked.anonymous_id,
            "client_ts": row.checked.client_ts,  # orjson writes RFC 3339, offset included
            "event": orjson.Fragment(row.event_json),
        }
        for row in batch.valid
    ]
    rejects = [
        {
            "event_index": row.index,
            "event_id": row.event_id,
            "event": orjson.Fragment(row.event_json),
            "event_b64": base64.b64encode(row.event_bytes).decode() if row.event_bytes else None,
            "errors": [error.as_dict() for error in row.errors],
        }
        for row in batch.rejected
    ]
    return {
        "batch_id": batch_id,
        "request_id": request_id,
        "received": batch.received,
        "rejected": len(batch.rejected),
        "elapsed_ms": (time.perf_counter() - started) * 1000,
        # jsonb parameters, sent as the bytes orjson made (no decode to str and re-encode)
        "rows": Jsonb(rows, dumps=orjson.dumps),
        "rejects": Jsonb(rejects, dumps=orjson.dumps),
    }


def _result(batch_id: uuid.UUID, received: int, row: tuple[int, int, int] | None) -> BatchResult:
    if row is None:  # cannot happen: the final insert always returns its one row
        raise RuntimeError("the batch statement returned no counts")
    accepted, deduped, rejected = row
    return BatchResult(batch_id, received, accepted, deduped, rejected)


async def write_batch_async(
    conn: psycopg.AsyncConnection,
    batch: PreparedBatch,
    *,
    request_id: str,
    started: float,
) -> BatchResult:
    """Write a batch on an autocommit connection; returns after the commit.

    Raises psycopg.OperationalError when the database is unreachable (nothing is written).
    """
    batch_id = uuid.uuid4()
    params = batch_params(batch, batch_id=batch_id, request_id=request_id, started=started)
    cursor = await conn.execute(WRITE_BATCH_SQL, params)  # type: ignore[arg-type]
    return _result(batch_id, batch.received, await cursor.fetchone())


def copy_events(
    conn: psycopg.Connection,
    events: Iterable[dict[str, Any]],
    *,
    batch_id: uuid.UUID,
    received_at: datetime | Callable[[dict[str, Any]], datetime] | None = None,
    dedupe: bool = True,
) -> int:
    """COPY already-valid events into raw.raw_events, for backfills and benchmarks.

    NOT the API path: no contract check, no rejects, no `ops.ingest_batches` row. Each event
    must already be valid (as `wearable generate-events` makes them): `event_id`,
    `event_name` and `schema_version` present, `client_ts` RFC 3339 or absent, no U+0000.
    The row is what the API stores for an accepted event; `received_at` is one time for all,
    a function of the event, or None for the database's `now()`.

    `dedupe` (default): the rows go through a temporary table and `insert … on conflict
    (event_id) do nothing`, so repeats — in `events` or already stored — are skipped, as the
    API skips them (the first of a repeated id wins). `dedupe=False`: straight COPY into
    raw.raw_events, about twice as fast, and one repeated id fails the whole COPY
    (UniqueViolation). Returns the number of rows inserted. Runs in one transaction of
    `conn` (a savepoint when one is open); the caller commits.
    """
    columns = [
        "event_id", "event_name", "schema_version", "user_id", "anonymous_id", "client_ts",
        "batch_id", "event",
    ]  # fmt: skip
    stamp = received_at if callable(received_at) else None
    if received_at is not None:
        columns.append("received_at")
    target = "_copy_events" if dedupe else "raw.raw_events"
    copy_sql = f"copy {target} ({', '.join(columns)}) from stdin"
    with conn.transaction():
        if dedupe:
            conn.execute(
                "create temporary table _copy_events"
                " (like raw.raw_events including defaults, ord bigserial) on commit drop"
            )
        with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[arg-type]
            copied = 0
            for event in events:
                row = [
                    event["event_id"],
                    event["event_name"],
                    event["schema_version"],
                    event.get("user_id"),
                    event.get("anonymous_id"),
                    event.get("client_ts"),  # RFC 3339 text: Postgres parses it
                    batch_id,
                    orjson.dumps(event).decode(),
                ]
                if received_at is not None:
                    row.append(stamp(event) if stamp is not None else received_at)
                copy.write_row(row)
                copied += 1
        if not dedupe:
            return copied
        inserted = conn.execute(
            "insert into raw.raw_events"
            " (event_id, event_name, schema_version, user_id, anonymous_id, client_ts,"
            "  received_at, batch_id, event)"
            " select distinct on (event_id) event_id, event_name, schema_version, user_id,"
            "  anonymous_id, client_ts, received_at, batch_id, event"
            " from _copy_events order by event_id, ord"
            " on conflict (event_id) do nothing"
        ).rowcount
        conn.execute("drop table _copy_events")
    return inserted


def ingest_totals(conn: psycopg.Connection) -> dict[str, Any]:
    """Durable totals over every request ever recorded in `ops.ingest_batches`.

    Keys: batches, received, accepted, deduped, rejected (ints), first_at / last_at
    (datetimes, None before the first batch).
    """
    row = conn.execute(
        """
        select count(*), coalesce(sum(received), 0), coalesce(sum(accepted), 0),
               coalesce(sum(deduped), 0), coalesce(sum(rejected), 0),
               min(received_at), max(received_at)
        from ops.ingest_batches
        """
    ).fetchone()
    assert row is not None
    keys = ("batches", "received", "accepted", "deduped", "rejected")
    totals: dict[str, Any] = {key: int(value) for key, value in zip(keys, row[:5], strict=True)}
    totals["first_at"], totals["last_at"] = row[5], row[6]
    return totals
