"""The `ourdesign` entry point: the operations commands (web.ops.cli) and `serve`, which runs
the whole app with every face (`web.serving`, which imports the app only in the web
processes). It lives here, not in web/ops/, so that operations import no face."""

from __future__ import annotations

import asyncio

import click

from web.logs import configure_logging
from web.ops.cli import main
from web.ops.cli_run import run, settings_of
from web.serving import become_supervisor, refuse_many_on_sqlite, serve_processes


@click.command(help="Run the web app and an in-process worker; creates and migrates the database.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    "processes",
    default=1,
    show_default=True,
    type=int,
    help="How many web processes share the port (more than 1 needs PostgreSQL).",
)
@click.option(
    "--queue-workers/--no-queue-workers",
    default=True,
    show_default=True,
    help="Run the inbox, delivery and thumbnail workers in each web process;"
    " --no-queue-workers leaves them to `ourdesign worker` processes (on busy instances,"
    " so that web requests get a core). --no-workers is the older name.",
)
@click.option("--no-workers", "no_workers", is_flag=True, hidden=True)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, processes: int, queue_workers: bool, no_workers: bool
) -> None:
    settings = settings_of(ctx)
    refuse_many_on_sqlite(settings, processes)
    configure_logging(settings.log_format, settings.log_level)
    run_workers = queue_workers and not no_workers
    click.echo(
        f"Our Design at {settings.base_url}, listening on http://{host}:{port}"
        + (f" with {processes} web processes" if processes > 1 else "")
    )
    if processes == 1:
        serve_processes(settings, host, port, processes, run_workers)
        return
    run(settings, lambda _instance: asyncio.sleep(0))  # migrate once, before they start
    config = ctx.parent.params.get("config") if ctx.parent else None
    become_supervisor(host, port, processes, run_workers, config)


# The command group of web.ops.cli, with `serve` added: what `ourdesign` runs.
main.add_command(serve)
