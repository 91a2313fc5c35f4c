"""The event API (FastAPI): the app, wired from its parts.

- `routes`: the endpoints, thin over the contract (`contract`, `batch`) and the store.
- `auth`: API keys, a dependency of the write routes.
- `resources`: the lifespan that compiles the contract, opens the pool and starts the
  migrations (`startup_migrations`), and the dependency that hands them to the routes.
- `requestlog`: request id, one log line and the latency per request, and the JSON 500.
- `metrics`: the Prometheus counters, summed over every worker under `wearable serve`.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.exceptions import HTTPException

from wearable_pipeline.config import Settings, get_settings
from wearable_pipeline.events.contract import CONTRACT_VERSION
from wearable_pipeline.events.errors import ApiError, api_error_handler, http_error_handler
from wearable_pipeline.events.metrics import IngestMetrics
from wearable_pipeline.events.requestlog import RequestLogMiddleware
from wearable_pipeline.events.resources import lifespan_for
from wearable_pipeline.events.routes import router


def create_app(settings: Settings, *, freeze_gc: bool = False) -> FastAPI:
    """The event API for `settings` (database, API keys, limits). Resources open on startup.

    `freeze_gc`: see `resources.lifespan_for` (for processes that exist to serve the app).
    """
    metrics = IngestMetrics()
    app = FastAPI(
        title="wearable-pipeline event ingestion",
        version=CONTRACT_VERSION,
        description="Takes analytics events into raw.raw_events: contract check, dedupe by "
        "event_id, rejected events kept with their reasons. See docs/events.md.",
        lifespan=lifespan_for(settings, metrics, freeze_gc=freeze_gc),
    )
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (one call per worker process): settings from the env."""
    from wearable_pipeline.logs import configure_logging

    if not logging.getLogger().handlers:
        configure_logging("WARNING", json=True)
    logging.getLogger("wearable_pipeline.events").setLevel(logging.INFO)
    return create_app(get_settings(), freeze_gc=True)
