"""API keys for writes, as a FastAPI dependency: `Authorization: Bearer <key>` or `X-API-Key`.

The two header schemes are FastAPI's own security classes, so OpenAPI (`/docs`) shows them
and its "Authorize" button works. Keys come from `WEARABLE_API_KEYS`; with none configured
writes are open (the lifespan warns at start-up).
"""

from __future__ import annotations

import hmac

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from wearable_pipeline.events.errors import ApiError
from wearable_pipeline.events.resources import Resources, get_resources

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key>")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: <key>")


async def require_api_key(
    res: Resources = Depends(get_resources),
    token: HTTPAuthorizationCredentials | None = Depends(bearer),
    header_key: str | None = Depends(api_key_header),
) -> None:
    """Pass when no keys are configured or the request offers one of them; else 401.

    A bearer token is preferred to X-API-Key when a request sends both.
    """
    if not res.api_keys:
        return
    offered = (token.credentials.strip() if token else "") or (header_key or "")
    if not offered or not _matches(offered, res.api_keys):
        raise ApiError(
            401,
            "missing or wrong API key: send Authorization: Bearer <key> or X-API-Key",
            {"WWW-Authenticate": "Bearer"},
        )


def _matches(offered: str, keys: frozenset[str]) -> bool:
    """Whether `offered` equals one of `keys`, in constant time per key."""
    return any(hmac.compare_digest(offered.encode(), key.encode()) for key in keys)
