"""Running dbt in-process with the connection the project resolved (embedded or DATABASE_URL).

`dbt/profiles.yml` reads `WEARABLE_DB_*` environment variables; `run_dbt` sets them from the
resolved database for the duration of one dbt invocation, so nobody writes a profile to
`~/.dbt` and the CLI, the Prefect flow and the tests all run dbt the same way. dbt runs
in this process through `dbtRunner` (no subprocess, results as objects), which is why the
environment is process-wide for the call: do not run two `run_dbt` calls in parallel threads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wearable_pipeline.config import TELEMETRY_OFF, Settings, get_settings
from wearable_pipeline.db.connection import connection_parts, resolve_database_url

# dbt's own statuses, grouped by what the pipeline needs to know.
_TEST_RESOURCE_TYPES = frozenset({"test", "unit_test"})
_FAILED_STATUSES = frozenset({"fail", "error", "runtime error"})
_DBT_SUBCOMMANDS_WITHOUT_DATABASE = frozenset({"parse", "ls", "list", "clean", "deps", "--help"})


@dataclass(frozen=True)
class NodeResult:
    """The outcome of one dbt node (model, seed, data test, unit test, snapshot)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None = None
    failures: int | None = None
    execution_time: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in _FAILED_STATUSES

    @property
    def is_test(self) -> bool:
        return self.resource_type in _TEST_RESOURCE_TYPES


@dataclass(frozen=True)
class DbtResult:
    """What one dbt invocation did, in the terms the CLI and the Prefect flow need.

    success:   dbt's own verdict (False when any node errored or any error-severity test
               failed, or when dbt could not run at all; then `exception` says why).
    nodes:     every executed node, in dbt's order.
    """

    args: tuple[str, ...]
    success: bool
    nodes: tuple[NodeResult, ...] = ()
    exception: str | None = None
    elapsed_seconds: float = 0.0

    @property
    def error(self) -> str | None:
        """Why the invocation failed, in one line; None when it succeeded."""
        if self.success:
            return None
        if self.exception:
            return self.exception
        failed = [f"{n.resource_type} {n.name}: {n.status}" for n in self.failed_nodes]
        return "; ".join(failed) or "dbt reported failure"

    @property
    def exit_code(self) -> int:
        """The exit status dbt's own CLI would give: 0 ok, 1 failures, 2 could not run."""
        if self.success:
            return 0
        return 2 if self.exception else 1

    @property
    def models_built(self) -> int:
        return sum(1 for n in self.nodes if n.resource_type == "model" and n.status == "success")

    @property
    def seeds_loaded(self) -> int:
        return sum(1 for n in self.nodes if n.resource_type == "seed" and n.status == "success")

    @property
    def tests(self) -> tuple[NodeResult, ...]:
        """Data tests and unit tests."""
        return tuple(n for n in self.nodes if n.is_test)

    @property
    def tests_passed(self) -> int:
        return sum(1 for n in self.tests if n.status == "pass")

    @property
    def tests_warned(self) -> int:
        return sum(1 for n in self.tests if n.status == "warn")

    @property
    def tests_failed(self) -> int:
        return sum(1 for n in self.tests if n.failed)

    @property
    def failed_tests(self) -> list[str]:
        """Names of the data and unit tests that failed or errored."""
        return [n.name for n in self.tests if n.failed]

    @property
    def failed_nodes(self) -> list[NodeResult]:
        """Every node that failed or errored (models and seeds included)."""
        return [n for n in self.nodes if n.failed]

    @property
    def skipped(self) -> list[str]:
        return [n.name for n in self.nodes if n.status == "skipped"]

    def summary(self) -> str:
        """One line for logs: what was built and tested, and what failed."""
        parts = [
            f"models built {self.models_built}",
            f"seeds {self.seeds_loaded}",
            f"tests passed {self.tests_passed}",
            f"failed {self.tests_failed}",
        ]
        if self.tests_warned:
            parts.append(f"warned {self.tests_warned}")
        failed = [n.name for n in self.failed_nodes]
        if failed:
            parts.append(f"failing: {', '.join(failed)}")
        if self.exception:
            parts.append(f"error: {self.exception}")
        return "dbt " + " ".join(self.args[:1]) + ": " + "; ".join(parts)


def dbt_env(database_url: str) -> dict[str, str]:
    """The environment `dbt/profiles.yml` reads, for a database URL (plus telemetry off)."""
    return {**connection_parts(database_url).as_env(), **TELEMETRY_OFF}


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


# Targets of dbt/profiles.yml that read the Parquet lake instead of PostgreSQL.
LAKE_TARGETS = frozenset({"spark"})


def dbt_target(args: Sequence[str]) -> str | None:
    """The `--target`/`-t` given in dbt arguments, else None (the profile's default)."""
    for index, arg in enumerate(args):
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
        if arg in ("--target", "-t") and index + 1 < len(args):
            return args[index + 1]
    return None


def lake_target_env(settings: Settings) -> dict[str, str]:
    """What the spark target of dbt/profiles.yml reads: its folder (warehouse, metastore)
    under WEARABLE_HOME, and the lake when one is configured."""
    env = {"WEARABLE_SPARK_DIR": str(Path(settings.home).resolve() / "spark")}
    if settings.lake_dir:
        env["WEARABLE_LAKE_DIR"] = settings.lake_dir
    return env


def needs_database(args: Sequence[str]) -> bool:
    """Whether the command uses PostgreSQL (a lake target such as spark does not)."""
    if dbt_target(args) in LAKE_TARGETS:
        return False
    first = next((arg for arg in args if not arg.startswith("-")), None)
    return bool(args) and first not in _DBT_SUBCOMMANDS_WITHOUT_DATABASE and "--help" not in args


def _with_paths(args: Sequence[str], project_dir: Path, target_path: Path | None) -> list[str]:
    """`args` plus --project-dir/--profiles-dir (and --target-path) unless already given."""
    result = list(args)
    # global flags (`--quiet build`) may come first; without a subcommand there is nothing to
    # point at a project (`--version`, `--help`)
    has_command = any(not arg.startswith("-") for arg in result)
    if not has_command or "--help" in result or "-h" in result:
        return result
    given = set(result)
    if "--project-dir" not in given:
        result += ["--project-dir", str(project_dir)]
    if "--profiles-dir" not in given:
        result += ["--profiles-dir", str(project_dir)]
    if target_path is not None and "--target-path" not in given:
        result += ["--target-path", str(target_path)]
    return result


def _node_results(run_result: Any) -> tuple[NodeResult, ...]:
    """NodeResults from dbt's `RunExecutionResult` (absent for parse, ls, docs …)."""
    results = getattr(run_result, "results", None) or ()
    nodes = []
    for item in results:
        node = getattr(item, "node", None)
        if node is None:
            continue
        status = getattr(item.status, "value", item.status)
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
                status=str(status).lower(),
                message=getattr(item, "message", None),
                failures=getattr(item, "failures", None),
                execution_time=float(getattr(item, "execution_time", 0.0) or 0.0),
            )
        )
    return tuple(nodes)


def run_dbt(
    args: Sequence[str],
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    target_path: Path | None = None,
    manifest: Any = None,
) -> DbtResult:
    """Run one dbt command (e.g. `["build"]`, `["test", "--select", "stg_sleep"]`) in-process.

    The database is `database_url` when given, else the one `settings` resolve to (starting
    the embedded server if needed). The database must be migrated already (the process does
    that where it starts), so the raw tables dbt's sources name exist.
    `target_path` redirects dbt's artefacts (tests use a temporary folder, so parallel
    checkouts and runs do not share `dbt/target`). With `--target spark` no database is
    used: Spark reads the lake (`settings.lake_dir`), see dbt/macros/spark_lake.sql.
    `manifest`: a project parsed earlier in this process (`parse_project`), which dbt then
    uses as it is instead of reading its partial-parse state and writing the manifest again.

    Never raises for dbt failures: the result says what failed. A missing database raises
    `DatabaseUnavailableError` from the connection layer.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or get_settings()
    args = [str(arg) for arg in args]
    env = dict(TELEMETRY_OFF)
    url = None
    if dbt_target(args) in LAKE_TARGETS:
        # the lake is the input and Spark the engine: no PostgreSQL involved
        env.update(lake_target_env(settings))
    elif needs_database(args) or database_url:
        url = database_url or resolve_database_url(settings)
        env.update(dbt_env(url))
    full_args = _with_paths(args, settings.dbt_project_dir, target_path)

    started = time.perf_counter()
    with _environment(env):
        outcome = dbtRunner(manifest=manifest).invoke(full_args)
    elapsed = time.perf_counter() - started
    return _result(args, outcome, elapsed)


def parse_project(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    target_path: Path | None = None,
) -> tuple[Any, DbtResult]:
    """Parse the dbt project once, for `run_dbt(..., manifest=)` to reuse (dbt's documented
    way of sharing a manifest between invocations in one process).

    Returns dbt's `Manifest` (None when the parse failed) and the parse's result. The
    connection is resolved as for a run: dbt renders the profile while parsing, and a parse
    under another connection would invalidate its partial-parse state for the next run.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or get_settings()
    url = database_url or resolve_database_url(settings)
    env = {**TELEMETRY_OFF, **dbt_env(url)}
    # the manifest is handed over in memory: writing it as JSON too would cost seconds
    args = ["--quiet", "--no-write-json", "parse"]
    full_args = _with_paths(args, settings.dbt_project_dir, target_path)
    started = time.perf_counter()
    with _environment(env):
        outcome = dbtRunner().invoke(full_args)
    result = _result(args, outcome, time.perf_counter() - started)
    return (outcome.result if result.success else None), result


def _result(args: Sequence[str], outcome: Any, elapsed: float) -> DbtResult:
    """A `DbtResult` from what `dbtRunner.invoke` returned."""
    exception = None
    if outcome.exception is not None:
        exception = f"{type(outcome.exception).__name__}: {outcome.exception}"
    return DbtResult(
        args=tuple(args),
        success=bool(outcome.success),
        nodes=_node_results(outcome.result),
        exception=exception,
        elapsed_seconds=elapsed,
    )
