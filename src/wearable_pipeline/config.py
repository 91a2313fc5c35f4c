"""Settings, read once from the environment and `.env` (DESIGN §8).

Every knob of the system lives here so that the CLI, the API, the Prefect flow and the tests
resolve configuration the same way.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _find_project_root() -> Path:
    """The repository root for a source checkout (editable install), else the working directory.

    Defaults such as `.wearable/` and `data/` are relative to the project, not to wherever the
    command happens to be run from, so `wearable` behaves the same from any sub-folder.
    """

    def is_project(folder: Path) -> bool:
        return (folder / "pyproject.toml").is_file() and (folder / "src/wearable_pipeline").is_dir()

    package_root = Path(__file__).resolve().parents[2]
    if is_project(package_root):
        return package_root
    cwd = Path.cwd().resolve()
    return next((folder for folder in (cwd, *cwd.parents) if is_project(folder)), cwd)


PROJECT_ROOT = _find_project_root()

# Telemetry stays off in every process this project starts (dbt, Prefect, subprocesses).
TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def disable_telemetry() -> None:
    """Set the telemetry opt-outs in this process's environment (inherited by children)."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    """Configuration from environment variables (and `.env` in the working directory).

    Every field reads `WEARABLE_<FIELD>` (e.g. `WEARABLE_HOME`), except `database_url`, which
    reads the conventional `DATABASE_URL`.
    """

    model_config = SettingsConfigDict(
        env_prefix="WEARABLE_",
        # The project's .env, then one in the working directory (which wins).
        env_file=(PROJECT_ROOT / ".env", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "WEARABLE_DATABASE_URL"),
        description="PostgreSQL URL; unset means the embedded server under `home`.",
    )
    home: Path = Field(
        default=PROJECT_ROOT / ".wearable",
        description="State folder: embedded database, Prefect server, logs.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Folder of CSV drops read by `wearable ingest` without arguments.",
    )
    lake_dir: str | None = Field(
        default=None,
        description="Parquet lake for `wearable lake export` and the dbt spark target: a folder "
        "or any fsspec URL (s3://…, gs://…); unset means no lake.",
    )
    api_keys: str = Field(
        default="",
        description="Comma-separated API keys; empty means the event API is open.",
    )
    prefect_api_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PREFECT_API_URL", "WEARABLE_PREFECT_API_URL"),
        description="Your own Prefect server's API; unset means the resident server under `home`.",
    )
    prefect_port: int | None = Field(
        default=None,
        description="Port of the resident Prefect server (127.0.0.1); unset means a free one.",
    )
    prefect_start_timeout: float = Field(
        default=120.0,
        description="Seconds to wait for the resident Prefect server to become healthy.",
    )
    dbt_worker_idle_timeout: float = Field(
        default=1800.0,
        description="Seconds the resident dbt worker waits for the next run before it exits; "
        "0 means no resident worker (each run imports dbt itself, ~4 s more).",
    )
    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8000)
    max_body_bytes: int = Field(default=1024 * 1024)
    max_events_per_batch: int = Field(default=1000)
    max_event_bytes: int = Field(default=32 * 1024)

    @property
    def api_key_set(self) -> frozenset[str]:
        return frozenset(key.strip() for key in self.api_keys.split(",") if key.strip())

    @property
    def project_root(self) -> Path:
        return PROJECT_ROOT

    @property
    def dbt_project_dir(self) -> Path:
        return PROJECT_ROOT / "dbt"

    @property
    def schemas_dir(self) -> Path:
        return PROJECT_ROOT / "schemas" / "events"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
