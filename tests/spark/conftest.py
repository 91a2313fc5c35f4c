"""Fixtures for the Spark tests (`make test-spark`; excluded from `make test` by the `spark`
marker): the dbt spark target in this process, and what it built.

dbt-spark's session method starts one SparkSession (a JVM) per process and keeps it, so every
Spark test of a pytest run shares one Spark folder (warehouse and Derby metastore); each test
module still has its own PostgreSQL database and its own lake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wearable_pipeline.config import Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WEARABLE_HOME for every Spark build of this pytest run (one JVM, one metastore)."""
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:  # a clear failure, not a skip: `make test-spark` installs them
        pytest.fail(f"the spark extra is not installed (pip install -e '.[spark]'): {exc}")
    return tmp_path_factory.mktemp("spark-home")


@pytest.fixture(scope="module")
def lake_settings(
    database_url: str, spark_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings of a module: its database, a lake of its own, the shared Spark home."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        home=spark_home,
        data_dir=tmp_path_factory.mktemp("data"),
        lake_dir=str(tmp_path_factory.mktemp("lake")),
    )


def spark_session() -> Any:
    """The SparkSession dbt-spark started in this process (after a spark-target run)."""
    from pyspark.sql import SparkSession

    # getOrCreate returns the session dbt-spark made (its settings: warehouse, metastore)
    return SparkSession.builder.getOrCreate()
