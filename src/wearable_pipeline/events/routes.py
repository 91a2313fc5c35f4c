"""The HTTP routes: parse the request, call the domain functions, shape the answer.

`POST /v1/events` and its alias `POST /events` (the seed's path; the same handler, in the
OpenAPI schema, counted as one route in the metrics) answer 200 with the counts and the
reasons for each rejected event; 400 body not JSON or not `{"events": [non-empty list]}` or
broken gzip; 401 missing/wrong key (`auth`); 413 body (sent or inflated), event count or one
event over its limit; 415 content type not JSON or encoding not gzip; 503 database
unavailable or not migrated (nothing accepted; retrying is safe); 500 (JSON, with the
request id; the traceback in the log) for anything unexpected (`requestlog`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from psycopg_pool import PoolTimeout

from wearable_pipeline.config import Settings
from wearable_pipeline.events import batch as batches
from wearable_pipeline.events import body as bodies
from wearable_pipeline.events import exactjson
from wearable_pipeline.events.auth import require_api_key
from wearable_pipeline.events.errors import ApiError, json_response
from wearable_pipeline.events.metrics import CONTENT_TYPE
from wearable_pipeline.events.resources import Resources, get_resources
from wearable_pipeline.events.store import BatchResult, write_batch_async

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 1.0
EVENTS_PATH = "/v1/events"
EVENTS_ALIAS = "/events"

router = APIRouter()

_BATCH_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["events"],
                    "properties": {
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "description": "An event: the envelope of GET /v1/schemas "
                                "plus a payload checked against the schema named by "
                                "event_name. Optional fields may be null (= absent).",
                            },
                        }
                    },
                },
            }
        },
        "description": "Optionally gzip-compressed (Content-Encoding: gzip).",
    },
}
_BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Counts, and the reasons for each rejected event."},
    400: {"description": "Body not JSON, not {events: [...]}, or broken gzip."},
    401: {"description": "Missing or wrong API key (keys configured)."},
    413: {"description": "Body, inflated body, event count or one event too large."},
    415: {"description": "Content type not JSON, or encoding not gzip."},
    503: {"description": "Database unavailable or not migrated: nothing accepted, retry."},
    500: {"description": "A bug: {error, request_id}; the traceback is in the log."},
}


# Decorators apply bottom-up: the canonical path is registered (and documented) first.
@router.post(
    EVENTS_ALIAS,
    summary=f"Ingest a batch of events (the same endpoint as {EVENTS_PATH})",
    operation_id="post_events",
    openapi_extra=_BATCH_DOC,
    responses=_BATCH_RESPONSES,
    dependencies=[Depends(require_api_key)],
)
@router.post(
    EVENTS_PATH,
    summary="Ingest a batch of events",
    operation_id="post_events_v1",
    openapi_extra=_BATCH_DOC,
    responses=_BATCH_RESPONSES,
    dependencies=[Depends(require_api_key)],
)
async def post_events(request: Request, res: Resources = Depends(get_resources)) -> Response:
    started = time.perf_counter()
    events = await _events_of(request, res.settings)
    try:
        prepared = batches.prepare_batch(
            events, res.contract, max_event_bytes=res.settings.max_event_bytes
        )
    except batches.BatchTooLargeError as exc:
        raise ApiError(413, str(exc)) from exc
    request_id: str = request.state.request_id
    result = await _write(res, prepared, request_id, started)
    counts = result.counts()
    res.metrics.count_events(counts)
    request.state.log_fields.update(counts, batch_id=str(result.batch_id))
    return json_response(
        {
            **counts,
            "batch_id": str(result.batch_id),
            "errors": [row.as_response() for row in prepared.rejected],
        }
    )


async def _events_of(request: Request, limits: Settings) -> list[Any]:
    """The request's `events` list: content type, encoding, size and shape checked."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(
            415, f"Content-Type must be application/json, got {content_type or 'none'!r}"
        )
    try:
        gzip = bodies.parse_encoding(request.headers.get("content-encoding"))
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise bodies.BodyTooLargeError(
                f"the body is {declared} bytes; the limit is {limits.max_body_bytes}"
            )
        raw = await bodies.read_body(request.stream(), gzip=gzip, limit=limits.max_body_bytes)
    except bodies.UnsupportedEncodingError as exc:
        raise ApiError(415, str(exc)) from exc
    except bodies.BodyTooLargeError as exc:
        raise ApiError(413, str(exc)) from exc
    except bodies.BodyEncodingError as exc:
        raise ApiError(400, str(exc)) from exc
    try:
        parsed = exactjson.loads(raw)
        return batches.events_of(parsed, max_events=limits.max_events_per_batch)
    except exactjson.JsonError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc
    except batches.BatchShapeError as exc:
        raise ApiError(400, str(exc)) from exc
    except batches.BatchTooLargeError as exc:
        raise ApiError(413, str(exc)) from exc


async def _write(
    res: Resources, prepared: batches.PreparedBatch, request_id: str, started: float
) -> BatchResult:
    """Store the batch; 503 while the database is unreachable or not migrated."""
    if not res.schema.applied:
        res.metrics.database_unavailable.inc()
        raise ApiError(
            503,
            "the database is not ready (migrations not applied yet); nothing was stored, "
            "retry later",
            {"Retry-After": "1"},
        )
    try:
        async with res.pool.connection() as conn:
            return await write_batch_async(conn, prepared, request_id=request_id, started=started)
    except (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError) as exc:
        res.metrics.database_unavailable.inc()
        log.warning("database unavailable", extra={"request_id": request_id, "error": str(exc)})
        raise ApiError(
            503,
            "the database is unavailable; nothing was stored, retry later",
            {"Retry-After": "1"},
        ) from exc
    except psycopg.Error as exc:  # a bug, not an outage: say so, keep the details in the log
        log.exception("batch write failed", extra={"request_id": request_id})
        raise ApiError(500, f"the batch could not be stored ({type(exc).__name__})") from exc


@router.get("/health", summary="The process is up")
async def health() -> Response:
    return json_response({"status": "ok"})


@router.get("/ready", summary="The database is reachable and migrated")
async def ready(res: Resources = Depends(get_resources)) -> Response:
    try:
        async with res.pool.connection(timeout=READY_TIMEOUT_SECONDS) as conn:
            await conn.execute("select 1")
    except (PoolTimeout, psycopg.Error) as exc:
        # The error names hosts and socket paths: for the log, not for anyone who asks.
        log.warning("not ready: database unreachable", extra={"error": str(exc).strip()})
        return json_response({"status": "unavailable", "database": "unreachable"}, 503)
    if not res.schema.applied:
        state = "migrations failed" if res.schema.failed else "migrations pending"
        return json_response({"status": "unavailable", "database": state}, 503)
    return json_response({"status": "ready", "database": "ok"})


@router.get("/v1/schemas", summary="The event contract (JSON Schema)")
async def schemas(res: Resources = Depends(get_resources)) -> Response:
    return json_response(res.contract.describe())


@router.get("/metrics", summary="Prometheus metrics (the whole service, every worker)")
async def prometheus(res: Resources = Depends(get_resources)) -> Response:
    return Response(res.metrics.render(), media_type=CONTENT_TYPE)
