"""Writing one checked batch, and reading the durable totals.

A request becomes ONE SQL statement: data-modifying CTEs insert the accepted events
(`on conflict (event_id) do nothing` — dedupe lives in the database, so it holds across
requests, workers and replicas), the rejected events, and the `ops.ingest_batches` row whose
counts come from what the inserts returned. One statement in autocommit mode is one
transaction and one round trip: when it returns, everything is committed, or nothing is.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg

from wearable_pipeline.events.batch import PreparedBatch

WRITE_BATCH_SQL = """
with incoming as (
    select *
    from unnest(
        %(ids)s::text[], %(names)s::text[], %(versions)s::text[], %(users)s::text[],
        %(anons)s::text[], %(client_ts)s::timestamptz[], %(events)s::text[]
    ) with ordinality as t(event_id, event_name, schema_version, user_id, anonymous_id,
                           client_ts, event, ord)
),
inserted as (
    insert into raw.raw_events
        (event_id, event_name, schema_version, user_id, anonymous_id, client_ts,
         received_at, batch_id, event)
    select event_id::uuid, event_name, schema_version, user_id, anonymous_id, client_ts,
           now(), %(batch_id)s, event::jsonb
    from incoming
    order by ord
    on conflict (event_id) do nothing
    returning 1
),
rejected as (
    insert into raw.rejected_events
        (batch_id, event_index, event_id, event, event_bytes, errors, received_at)
    select %(batch_id)s, event_index, event_id, event::jsonb, event_bytes, errors::jsonb, now()
    from unnest(%(r_index)s::int[], %(r_ids)s::text[], %(r_events)s::text[],
                %(r_bytes)s::bytea[], %(r_errors)s::text[])
         as r(event_index, event_id, event, event_bytes, errors)
    returning 1
),
counted as (
    select (select count(*) from inserted)::int as accepted,
           (select count(*) from rejected)::int as rejected
)
insert into ops.ingest_batches
    (batch_id, request_id, received_at, received, accepted, deduped, rejected, duration_ms)
select %(batch_id)s, %(request_id)s, now(), %(received)s, accepted,
       %(received)s - accepted - rejected, rejected,
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
    """The parameters of WRITE_BATCH_SQL: one array per column (a handful of values, not N)."""
    valid = [row.checked for row in batch.valid]
    return {
        "batch_id": batch_id,
        "request_id": request_id,
        "received": batch.received,
        "elapsed_ms": (time.perf_counter() - started) * 1000,
        "ids": [c.event_id for c in valid],
        "names": [c.event_name for c in valid],
        "versions": [c.schema_version for c in valid],
        "users": [c.user_id for c in valid],
        "anons": [c.anonymous_id for c in valid],
        "client_ts": [c.client_ts for c in valid],
        "events": [row.event_json for row in batch.valid],
        "r_index": [row.index for row in batch.rejected],
        "r_ids": [row.event_id for row in batch.rejected],
        "r_events": [row.event_json for row in batch.rejected],
        "r_bytes": [row.event_bytes for row in batch.rejected],
        "r_errors": [
            orjson.dumps([e.as_dict() for e in row.errors]).decode() for row in batch.rejected
        ],
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


def write_batch(
    conn: psycopg.Connection, batch: PreparedBatch, *, request_id: str, started: float
) -> BatchResult:
    """The synchronous twin of `write_batch_async` (scripts, tests, benchmarks)."""
    batch_id = uuid.uuid4()
    params = batch_params(batch, batch_id=batch_id, request_id=request_id, started=started)
    with conn.transaction():
        row = conn.execute(WRITE_BATCH_SQL, params).fetchone()  # type: ignore[arg-type]
    return _result(batch_id, batch.received, row)


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
