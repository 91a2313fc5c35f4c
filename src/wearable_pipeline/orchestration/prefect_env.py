"""Pointing this process's Prefect client at a server: the user's, or the resident one.

Prefect reads its settings from the environment once, when `prefect` is first imported, so
`configure_prefect` must run before anything imports it; the flow module says so too.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from wearable_pipeline.config import Settings, disable_telemetry
from wearable_pipeline.orchestration import prefect_server


class PrefectConfigurationError(RuntimeError):
    """Prefect was imported before it was pointed at a server."""


@dataclass(frozen=True)
class PrefectTarget:
    """The Prefect server this process talks to."""

    api_url: str
    managed: bool  # True: the resident server under WEARABLE_HOME; False: PREFECT_API_URL
    process: prefect_server.ServerProcess | None = None  # the resident server's, when managed

    @property
    def ui_url(self) -> str:
        return os.environ.get("PREFECT_UI_URL") or prefect_server.ui_url(self.api_url)


def configure_prefect(
    settings: Settings, log_level: str = "INFO", *, wait: bool = True
) -> PrefectTarget:
    """Set Prefect's environment for this process (and its children) and return the server.

    With `PREFECT_API_URL` set (environment or .env) that server is used as it is; otherwise
    the resident server under WEARABLE_HOME is started if needed (about 15 s the first time)
    and Prefect's own state lives beside it. Telemetry stays off either way, and Prefect never
    falls back to a temporary in-process server.

    `wait=False` returns as soon as the server's address is known, while it may still be
    starting: the caller imports Prefect meanwhile (over a second) and calls
    `wait_until_ready` before its first request.
    """
    disable_telemetry()
    if settings.prefect_api_url:
        target = PrefectTarget(settings.prefect_api_url, managed=False)
    else:
        process = prefect_server.start(settings.home, port=settings.prefect_port)
        target = PrefectTarget(process.api_url, managed=True, process=process)
        os.environ["PREFECT_HOME"] = str(prefect_server.prefect_home(settings.home))
    if "prefect" in sys.modules and os.environ.get("PREFECT_API_URL") != target.api_url:
        raise PrefectConfigurationError(
            "prefect was imported before configure_prefect() pointed it at "
            f"{target.api_url}; call configure_prefect first"
        )
    os.environ["PREFECT_API_URL"] = target.api_url
    os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", log_level)
    if wait:
        wait_until_ready(settings, target)
    return target


def wait_until_ready(settings: Settings, target: PrefectTarget) -> None:
    """Wait until the resident server answers (raises PrefectServerError if it cannot start).

    A server of the user's (PREFECT_API_URL) is taken as it is: Prefect's client reports it
    when it does not answer.
    """
    if target.process is not None:
        prefect_server.wait_until_healthy(
            settings.home, target.process, settings.prefect_start_timeout
        )
