"""`wearable prefect …`: the resident Prefect server (status, start, url, stop)."""

from __future__ import annotations

import typer

from wearable_pipeline.commands.common import console, fail
from wearable_pipeline.config import get_settings

prefect_app = typer.Typer(help="Manage the resident Prefect server (or show PREFECT_API_URL's).")


@prefect_app.command("status")
def status() -> None:
    """Show which Prefect server is used, whether it answers, and where its UI is."""
    from wearable_pipeline.orchestration import prefect_server

    settings = get_settings()
    if settings.prefect_api_url:
        answers = prefect_server.is_healthy(settings.prefect_api_url)
        console.print(
            f"Prefect: [bold]PREFECT_API_URL[/] {settings.prefect_api_url} — "
            + ("healthy" if answers else "[red]not answering[/]"),
            highlight=False,
        )
        return
    state = prefect_server.status(settings.home)
    if state.process is None:
        console.print(f"Prefect: [bold]resident server[/] in {state.folder} — stopped")
        console.print("it starts with the next run (`wearable run`) or `wearable prefect start`")
        return
    health = "healthy" if state.healthy else "[yellow]starting (not answering yet)[/]"
    console.print(
        f"Prefect: [bold]resident server[/] in {state.folder} — running "
        f"(pid {state.process.pid}), {health}",
        highlight=False,
    )
    console.print(f"UI:  {state.process.ui_url}", highlight=False)
    console.print(f"API: {state.process.api_url}", highlight=False)
    console.print(f"log: {prefect_server.log_path(settings.home)}", highlight=False)


@prefect_app.command("start")
def start() -> None:
    """Start the resident server (if it is not running) and wait until it answers."""
    typer.echo(_ensure_running(api=False))


@prefect_app.command("url")
def url(
    api: bool = typer.Option(False, "--api", help="Print the API's URL instead of the UI's."),
) -> None:
    """Print the Prefect UI's URL (starting the resident server if needed)."""
    typer.echo(_ensure_running(api=api))


@prefect_app.command("stop")
def stop() -> None:
    """Stop the resident server (its run history stays for the next start)."""
    from wearable_pipeline.orchestration import prefect_server

    settings = get_settings()
    if settings.prefect_api_url:
        raise fail("PREFECT_API_URL is set: this project does not manage that server", code=2)
    if prefect_server.stop(settings.home):
        console.print("Prefect server stopped")
    else:
        console.print("Prefect server was not running")


def _ensure_running(*, api: bool) -> str:
    from wearable_pipeline.orchestration import prefect_server

    settings = get_settings()
    if settings.prefect_api_url:
        api_url = settings.prefect_api_url
    else:
        try:
            api_url = prefect_server.ensure_running(
                settings.home, port=settings.prefect_port, timeout=settings.prefect_start_timeout
            )
        except prefect_server.PrefectServerError as exc:
            raise fail(str(exc)) from exc
    return api_url if api else prefect_server.ui_url(api_url)


def register(app: typer.Typer) -> None:
    app.add_typer(prefect_app, name="prefect")
