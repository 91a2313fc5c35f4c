"""Per request: an id, one structured log line, one latency sample, and the JSON 500.

Pure ASGI middleware rather than Starlette's BaseHTTPMiddleware: it adds no task or
buffering per request, which matters at the single-event latency target. Routes put their
counts into `request.state.log_fields`; this middleware adds request id, status and latency
and logs. An exception no route handled becomes `{"error": "internal error", "request_id":
…}` with status 500 (the traceback goes to the log), so every answer of the API is JSON and
carries `X-Request-ID`.

Metrics: the `route` label is the route's canonical path, so `POST /events` (the alias of
`POST /v1/events`) counts as `/v1/events`: one endpoint, one series, whatever path the client
uses. The latency is observed when the last byte of the response is handed to the server,
so a client that has its answer finds the request in `/metrics`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wearable_pipeline.events.metrics import IngestMetrics

log = logging.getLogger("wearable_pipeline.events.requests")
ROUTE_LABELS = {
    "/v1/events": "/v1/events",
    "/events": "/v1/events",
    "/v1/schemas": "/v1/schemas",
    "/health": "/health",
    "/ready": "/ready",
    "/metrics": "/metrics",
}
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, metrics: IngestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        fields: dict[str, Any] = {}
        state["log_fields"] = fields
        path = scope.get("path", "")
        route = ROUTE_LABELS.get(path, "other")
        status = 500
        responding = False
        seconds: float | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, responding, seconds
            if message["type"] == "http.response.start":
                status, responding = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                seconds = time.perf_counter() - started
                self.metrics.observe_request(route, status, seconds)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error", extra={"request_id": request_id, "path": path})
            if responding:
                raise  # the response has started: nothing else can be sent
            await _internal_error(request_id, send_with_id)
        finally:
            if seconds is None:  # no complete response (the client went away)
                seconds = time.perf_counter() - started
                self.metrics.observe_request(route, status, seconds)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": path,
                    "status": status,
                    "latency_ms": round(seconds * 1000, 3),
                    **fields,
                },
            )


async def _internal_error(request_id: str, send: Send) -> None:
    body = orjson.dumps({"error": "internal error", "request_id": request_id})
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is short and plain, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex
