"""`wearable schedule`, `wearable watch`: pipeline runs nobody has to type.

Both run in the foreground until Ctrl-C / SIGTERM (run them under a service manager or in a
terminal), are listed for `wearable stop`, and show every run in the Prefect UI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from wearable_pipeline.commands.common import (
    console,
    database_url,
    err_console,
    fail,
    start_prefect_server,
)
from wearable_pipeline.commands.pipeline import SELECT, SKIP_TESTS, UNIT_TESTS
from wearable_pipeline.config import Settings, get_settings

if TYPE_CHECKING:
    from wearable_pipeline.orchestration.prefect_env import PrefectTarget
    from wearable_pipeline.orchestration.runner import PipelineOutcome


def schedule(
    cron: str = typer.Option(
        ..., "--cron", help='When to run, as a cron expression: "0 2 * * *" is 02:00 daily.'
    ),
    timezone: str = typer.Option(
        None, "--timezone", help="IANA time zone of the cron expression (default: this machine's)."
    ),
    name: str = typer.Option("scheduled", "--name", help="Name of the Prefect deployment."),
    skip_tests: bool = SKIP_TESTS,
    select: list[str] = SELECT,
    unit_tests: bool = UNIT_TESTS,
) -> None:
    """Run the pipeline on a schedule, served by Prefect, until Ctrl-C / SIGTERM.

    The schedule shows in the Prefect UI as the deployment `wearable_pipeline/<name>`, where
    runs can also be started by hand. Each run ingests the data folder. On stop, Prefect
    pauses the schedule until the next `wearable schedule`.
    """
    from wearable_pipeline.orchestration import processes, schedule
    from wearable_pipeline.orchestration.runner import RunOptions

    settings = get_settings()
    prefect = _pointed_at_prefect(settings)
    spec = schedule.ScheduleSpec(cron, timezone or schedule.local_timezone(), name)
    try:
        # Prefect's own check, as soon as Prefect may be imported: a usage error comes before
        # the database starts and before the server's first start-up is waited for.
        schedule.validate(spec)
    except schedule.ScheduleError as exc:
        raise fail(str(exc), code=2) from exc
    serving = f"{spec.full_name} on "
    if twin := next(
        (
            p
            for p in processes.running(settings.home)
            if p.kind == "schedule" and p.detail.startswith(serving)
        ),
        None,
    ):
        # Two processes serving one deployment: the second's schedule would replace the
        # first's, and stopping either would pause both.
        raise fail(
            f"{spec.full_name} is already served by pid {twin.pid} ({twin.detail}); "
            "stop it first (`wearable stop`) or give another --name",
            code=2,
        )
    _ready(settings, prefect)
    options = RunOptions(skip_tests=skip_tests, select=list(select or []), unit_tests=unit_tests)
    console.print(
        f"serving [bold]{spec.full_name}[/] on {spec.describe()}; "
        f"runs and the schedule: {prefect.ui_url}/deployments — Ctrl-C stops",
        highlight=False,
        soft_wrap=True,
    )
    with processes.recorded(settings.home, "schedule", serving + spec.describe()):
        schedule.serve(spec, options)
    console.print("stopped; the schedule is paused until the next `wearable schedule`")


def watch(
    folder: Path = typer.Argument(
        None, help="Folder to watch (default: the data folder, WEARABLE_DATA_DIR)."
    ),
    settle: float = typer.Option(
        5.0,
        "--settle",
        min=0.0,
        help="Seconds a file's size and time must stay unchanged before it is loaded.",
    ),
    catch_up: bool = typer.Option(
        True,
        "--catch-up/--no-catch-up",
        help="Start with one run over the folder, for files that landed while not watching.",
    ),
    skip_tests: bool = SKIP_TESTS,
    select: list[str] = SELECT,
    unit_tests: bool = UNIT_TESTS,
) -> None:
    """Run the pipeline whenever CSV files land in FOLDER (new or changed), until Ctrl-C.

    One run at a time, on the files that landed; a file still being written waits until it
    has settled. Each run shows in the Prefect UI and in `wearable runs`. Ctrl-C / SIGTERM
    during a run stop the watcher once the run has finished.
    """
    from wearable_pipeline.orchestration import processes
    from wearable_pipeline.orchestration.prefect_env import PrefectConfigurationError
    from wearable_pipeline.orchestration.prefect_server import PrefectServerError
    from wearable_pipeline.orchestration.runner import PipelineNotStarted, RunOptions
    from wearable_pipeline.orchestration.watch import (
        StopRequests,
        WatchConfig,
        WatchedFolderGone,
        watch_folder,
    )

    settings = get_settings()
    folder = (folder or settings.data_dir).expanduser().resolve()
    if not folder.is_dir():
        problem = "not a folder" if folder.exists() else "no such folder"
        raise fail(f"{folder}: {problem}", code=2)
    prefect = _ready(settings, _pointed_at_prefect(settings))
    config = WatchConfig(
        folder=folder,
        settle_seconds=settle,
        catch_up=catch_up,
        options=RunOptions(skip_tests=skip_tests, select=list(select or []), unit_tests=unit_tests),
    )
    stop = StopRequests()
    stop.install()
    console.print(
        f"watching {folder} (settle {settle:g} s); runs: {prefect.ui_url}/runs — Ctrl-C stops",
        highlight=False,
        soft_wrap=True,
    )
    with processes.recorded(settings.home, "watch", str(folder)):
        try:
            watch_folder(settings, config, _report_run, stop)
        except (PipelineNotStarted, PrefectServerError, PrefectConfigurationError) as exc:
            # Without its database or Prefect the watcher cannot record runs: stop loudly;
            # restarted, it catches up on the files that landed meanwhile.
            raise fail(f"{exc}; stopped watching (restart to catch up)") from exc
        except WatchedFolderGone as exc:
            raise fail(f"{exc}; stopped watching") from exc
    console.print("stopped watching")


def _pointed_at_prefect(settings: Settings) -> PrefectTarget:
    """This process pointed at its Prefect server, the resident one starting in the background
    if needed: Prefect may be imported from here on, and nothing has been waited for yet."""
    from wearable_pipeline.orchestration.prefect_env import configure_prefect
    from wearable_pipeline.orchestration.prefect_server import PrefectServerError

    start_prefect_server(settings)
    try:
        return configure_prefect(settings, wait=False)
    except PrefectServerError as exc:
        raise fail(str(exc)) from exc


def _ready(settings: Settings, prefect: PrefectTarget) -> PrefectTarget:
    """Database migrated and Prefect's server up before serving: fail now, not at 2 am."""
    from wearable_pipeline.orchestration.prefect_env import wait_until_ready
    from wearable_pipeline.orchestration.prefect_server import PrefectServerError

    database_url(settings)
    try:
        wait_until_ready(settings, prefect)
    except PrefectServerError as exc:
        raise fail(str(exc)) from exc
    return prefect


def _report_run(paths: list[Path], outcome: PipelineOutcome) -> None:
    run = outcome.run
    colour = "green" if outcome.succeeded else "red"
    console.print(
        f"[{colour}]{run.status}[/] run {str(run.run_id)[:8]}: {len(paths)} path(s), "
        f"{run.rows_ingested:,} rows, {run.models_built} models, {run.tests_passed} tests passed"
        + (f" — {outcome.flow_run_url}" if outcome.flow_run_url else ""),
        highlight=False,
        soft_wrap=True,
    )
    if not outcome.succeeded:
        err_console.print(f"[red]run failed:[/] {run.error}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule)
    app.command("watch")(watch)
