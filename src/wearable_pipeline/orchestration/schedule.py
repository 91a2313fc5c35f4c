"""`wearable schedule`: the flow served as a Prefect deployment with a cron schedule.

Prefect's own serving (`Flow.serve`): the deployment and its schedule are registered with the
Prefect server, which creates the scheduled runs; this process polls for them and runs each in
a fresh subprocess — one at a time — until it receives Ctrl-C or SIGTERM, when Prefect pauses
the schedule and stops. Runs can also be started from the UI's deployment page.
"""

from __future__ import annotations

from dataclasses import dataclass

from wearable_pipeline.orchestration.runner import RunOptions


class ScheduleError(ValueError):
    """The schedule is not valid (cron expression, time zone or deployment name); the message
    says why."""


@dataclass(frozen=True)
class ScheduleSpec:
    cron: str
    timezone: str
    deployment: str = "scheduled"

    @property
    def full_name(self) -> str:
        """The deployment's name in Prefect's UI and CLI: `<flow>/<deployment>`."""
        return f"wearable_pipeline/{self.deployment}"

    def describe(self) -> str:
        return f"cron {self.cron!r} ({self.timezone})"


def local_timezone() -> str:
    """This machine's IANA time zone name (what a person means by "every night at 2")."""
    from tzlocal import get_localzone_name

    return get_localzone_name() or "UTC"


def validate(spec: ScheduleSpec) -> None:
    """Raise ScheduleError for what Prefect would refuse, or accept and never run.

    Prefect's own checks, asked before anything starts: the cron expression and time zone
    (its client schema), the deployment name (its runner refuses `/` and `%`, after the
    servers are up), and a next date (its scheduler's: `0 2 31 2 *` is a valid expression
    that never comes round, which Prefect's server would only log on every pass). And five
    fields only: Prefect reads a sixth as seconds *after* the weekday, so a Quartz-style
    `0 0 2 * * *` ("02:00 daily" there) would start a run every second of a minute a month.
    """
    import asyncio

    from prefect.client.schemas.schedules import CronSchedule
    from prefect.server.schemas.schedules import CronSchedule as SchedulerCron
    from pydantic import ValidationError

    if not spec.deployment.strip() or any(char in spec.deployment for char in "/%"):
        raise ScheduleError(f"deployment name {spec.deployment!r}: give a name, without '/' or '%'")
    if len(spec.cron.split()) > 5:
        raise ScheduleError(
            f"{spec.describe()}: five fields please (minute hour day month weekday); "
            "a pipeline run is not scheduled by the second"
        )
    try:
        CronSchedule(cron=spec.cron, timezone=spec.timezone)
    except ValidationError as exc:
        reasons = "; ".join(error["msg"] for error in exc.errors())
        raise ScheduleError(f"{spec.describe()}: {reasons}") from exc
    try:
        asyncio.run(SchedulerCron(cron=spec.cron, timezone=spec.timezone).get_dates(n=1))
    except ValueError as exc:  # croniter's CroniterBadDateError: no date matches
        raise ScheduleError(f"{spec.describe()}: no date ever matches it") from exc


def serve(spec: ScheduleSpec, options: RunOptions) -> None:
    """Register the deployment with its schedule and serve it until Ctrl-C / SIGTERM.

    Call `configure_prefect` first (it must run before Prefect is imported). `options`
    become the deployment's parameters, so every scheduled run (and one started from the
    UI) runs with them.
    """
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from wearable_pipeline.orchestration import flow

    validate(spec)
    flow.wearable_pipeline.serve(
        name=spec.deployment,
        schedule=Cron(spec.cron, timezone=spec.timezone),
        parameters=options.as_json(),
        description="The wearable pipeline on a schedule (`wearable schedule`).",
        pause_on_shutdown=True,
        print_starting_message=False,
        limit=1,  # one run at a time: a late run waits for the one before
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
