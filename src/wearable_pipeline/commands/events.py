"""`wearable serve`, `wearable generate-events`, `wearable stats`: the events area."""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import orjson
import typer

from wearable_pipeline.commands.common import console, fail, open_connection
from wearable_pipeline.config import Settings, get_settings

log = logging.getLogger(__name__)

COUNT_KEYS = ("received", "accepted", "deduped", "rejected")


def serve(
    host: str = typer.Option(
        None, "--host", help="Interface to bind (default: WEARABLE_API_HOST, else 127.0.0.1)."
    ),
    port: int = typer.Option(
        None, "--port", help="TCP port (default: WEARABLE_API_PORT, else 8000)."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
) -> None:
    """Run the event API (uvicorn) until Ctrl-C / SIGTERM, which finish in-flight requests.

    `/metrics` reports the whole service: the workers share their metrics through
    prometheus_client's multiprocess mode (`events.metrics_dir`), with a private folder for
    this run unless PROMETHEUS_MULTIPROC_DIR names one.
    """
    import uvicorn

    from wearable_pipeline.events.metrics_dir import shared_metrics_dir
    from wearable_pipeline.orchestration import processes

    settings = get_settings()
    # Resolve once here (starting the embedded server if that is the configuration); the
    # workers inherit the resolved URL.
    os.environ["DATABASE_URL"] = _serving_database_url(settings)
    get_settings.cache_clear()
    for name in ("wearable_pipeline.events", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.INFO)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT (in-flight requests finish, the pool
    # closes), then restores these handlers and re-raises the signal: exit 0 / 130, not -15.
    signal.signal(signal.SIGTERM, _exit_with(0))
    signal.signal(signal.SIGINT, _exit_with(130))
    host, port = host or settings.api_host, port or settings.api_port
    # Before anything imports prometheus_client, which picks its mode at import; listed for
    # `wearable stop` while it runs.
    with (
        shared_metrics_dir(),
        processes.recorded(settings.home, "api", f"http://{host}:{port}"),
    ):
        uvicorn.run(
            "wearable_pipeline.events.api:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,  # our JSON/rich logging set up by the CLI, not uvicorn's
            access_log=False,  # one line per request comes from the app itself
            timeout_graceful_shutdown=10,
        )


def _serving_database_url(settings: Settings) -> str:
    """The URL to serve on, migrated when the database is reachable.

    Migrated here, where the process starts, so that a broken schema stops `serve` at once;
    the app's lifespan in this process then finds it done (`migrate_once`). Fatal: the
    embedded server cannot start, a migration fails, or the role may not apply them. Not
    fatal: the database is unreachable — the service starts anyway, answers 503 and applies
    the migrations itself once the database is back (see `events.startup_migrations`).
    """
    from wearable_pipeline.db.connection import resolve_database_url
    from wearable_pipeline.db.embedded import EmbeddedServerError
    from wearable_pipeline.events.startup_migrations import (
        DatabaseUnreachableError,
        MigrationsFailed,
        migrate_now,
    )

    try:
        url = resolve_database_url(settings)
    except (EmbeddedServerError, RuntimeError) as exc:
        raise fail(str(exc)) from exc
    try:
        migrate_now(url, connect_timeout=5)
    except DatabaseUnreachableError as exc:
        log.warning("%s; serving anyway: 503 until it is reachable", exc)
    except MigrationsFailed as exc:
        raise fail(str(exc)) from exc
    return url


def _exit_with(code: int) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(code)

    return handler


def generate_events_command(
    users: int = typer.Option(20, "--users", min=1, help="Users (same ids as generate-csv)."),
    days: int = typer.Option(30, "--days", min=1, help="Days from 2024-01-01."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same events."),
    url: str = typer.Option(
        None, "--url", help="Events endpoint (default: http://WEARABLE_API_HOST:PORT/v1/events)."
    ),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Events per request."),
    duplicate_rate: float = typer.Option(
        0.0, "--duplicate-rate", min=0.0, max=0.99, help="Share of exact repeats (deduped)."
    ),
    invalid_rate: float = typer.Option(
        0.0, "--invalid-rate", min=0.0, max=0.99, help="Share of invalid events (rejected, kept)."
    ),
    anonymous_share: float = typer.Option(
        0.3,
        "--anonymous-share",
        min=0.0,
        max=1.0,
        help="Share of sessions that start signed out (only an anonymous_id) and sign in "
        "part-way with an identify event carrying both ids.",
    ),
    api_key: str = typer.Option(
        None, "--api-key", envvar="WEARABLE_API_KEY", help="Sent as Authorization: Bearer."
    ),
    out: Path = typer.Option(None, "--out", help="Write JSON lines here instead of posting."),
    as_json: bool = typer.Option(False, "--json", help="Print the totals as JSON."),
) -> None:
    """Generate synthetic events and post them to the API (or write them with --out)."""
    from wearable_pipeline.events.generator import PostError, generate_events, post_events

    events = generate_events(
        users=users,
        days=days,
        seed=seed,
        duplicate_rate=duplicate_rate,
        invalid_rate=invalid_rate,
        anonymous_share=anonymous_share,
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as handle:
            written = 0
            for event in events:
                handle.write(orjson.dumps(event) + b"\n")
                written += 1
        console.print(f"wrote {written} events to {out}")
        return
    settings = get_settings()
    target = url or f"http://{settings.api_host}:{settings.api_port}/v1/events"
    try:
        totals = post_events(target, events, batch_size=batch_size, api_key=api_key)
    except PostError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(totals))
        return
    console.print(f"posted to {target} in {totals['batches']} batches; the server counted:")
    for key in COUNT_KEYS:
        console.print(f"  {key:<9} {totals[key]:>9,}")


def stats(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Durable ingestion totals over every request (from ops.ingest_batches)."""
    from wearable_pipeline.events.store import ingest_totals

    with open_connection() as conn:
        totals = ingest_totals(conn)
    if as_json:
        typer.echo(json.dumps(totals, default=str))
        return
    console.print(f"batches   {totals['batches']:>12,}")
    for key in COUNT_KEYS:
        console.print(f"{key:<9} {totals[key]:>12,}")
    if totals["first_at"] is not None:
        console.print(f"first     {totals['first_at']:%Y-%m-%d %H:%M:%S%z}")
        console.print(f"last      {totals['last_at']:%Y-%m-%d %H:%M:%S%z}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("serve")(serve)
    app.command("generate-events")(generate_events_command)
    app.command("stats")(stats)
