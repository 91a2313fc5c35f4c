"""Error answers of the event API: one JSON shape, `{"error": "<what is wrong>"}`.

Routes and dependencies raise `ApiError`; the handler `create_app` registers turns it into
the response, so no route builds an error body by hand. An error of status 500 or more also
carries the request id, which the log line of that request carries too. The answers the
framework gives itself (404 for an unknown path, 405 for a method a path does not take)
get the same shape through `http_error_handler`.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException


class ApiError(Exception):
    """An answer other than 200: its status, a message for the client, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """`content` as JSON written by orjson (FastAPI's default encoder is far slower)."""
    return Response(orjson.dumps(content), status, headers, media_type="application/json")


async def api_error_handler(request: Request, exc: Exception) -> Response:
    """The response for an ApiError (registered with `app.add_exception_handler`)."""
    assert isinstance(exc, ApiError)
    body: dict[str, str] = {"error": exc.message}
    if exc.status >= 500:
        body["request_id"] = request.state.request_id
    return json_response(body, exc.status, exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (404, 405) in the API's shape, headers (`Allow`) kept.

    Registered for Starlette's `HTTPException`, as FastAPI's documentation shows for
    replacing its default `{"detail": ...}` body."""
    assert isinstance(exc, HTTPException)
    return await api_error_handler(request, ApiError(exc.status_code, exc.detail, exc.headers))
