"""Helpers for the lake tests: what PostgreSQL holds, and what the lake holds, side by side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

FITBIT = Path(__file__).parents[1] / "fixtures" / "fitbit"


def query(url: str, statement: str, *params: object) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(statement, params or None))  # type: ignore[arg-type]


def lake_rows(lake: Path, relative: str, sort_by: list[str]) -> list[dict[str, Any]]:
    """Every row of a lake table as pyarrow reads it (Hive partitions as columns); the
    exporter's temporaries are skipped by their leading dot."""
    folder = lake / relative
    if not folder.exists():
        return []
    dataset = ds.dataset(folder, format="parquet", partitioning="hive", ignore_prefixes=["."])
    # older files lack the columns later loads added (schema evolution): read them as NULL
    schema = pa.unify_schemas([dataset.schema, *(pq.read_schema(path) for path in dataset.files)])
    dataset = ds.dataset(
        folder, schema=schema, format="parquet", partitioning="hive", ignore_prefixes=["."]
    )
    return dataset.to_table().sort_by([(c, "ascending") for c in sort_by]).to_pylist()


def pg_rows(url: str, table: str, sort_by: list[str]) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f"select * from {table} order by {', '.join(sort_by)}")
        return list(cur.fetchall())


def make_events(count: int, *, user: str = "u1", start: datetime | None = None) -> list[dict]:
    start = start or datetime(2024, 3, 1, 8, tzinfo=UTC)
    return [
        {
            "schema_version": "1.0.0",
            "event_id": str(uuid.uuid4()),
            "event_name": "page_view",
            "user_id": user,
            "anonymous_id": None,
            "session_id": "s-1",
            "device_id": "d-1",
            "client_ts": (start + timedelta(minutes=index)).isoformat(),
            "source": "web",
            "environment": "prod",
            "timezone": "Europe/Berlin",
            "payload": {"page_title": f"p{index}", "note": 'quote " comma , newline \n end'},
        }
        for index in range(count)
    ]
