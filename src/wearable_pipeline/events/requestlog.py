"""One structured log line and one latency sample per HTTP request (pure ASGI middleware).

Pure ASGI rather than Starlette's BaseHTTPMiddleware: it adds no task or buffering per
request, which matters at the single-event latency target. Routes put their counts into
`request.state.log_fields`; this middleware adds request id, status and latency and logs.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wearable_pipeline.events.metrics import IngestMetrics

log = logging.getLogger("wearable_pipeline.events.requests")
KNOWN_ROUTES = frozenset({"/v1/events", "/v1/schemas", "/health", "/ready", "/metrics"})
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
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            path = scope.get("path", "")
            route = path if path in KNOWN_ROUTES else "other"
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


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is short and plain, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex
