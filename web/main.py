"""The `ourdesign` entry point: the operations commands (web.ops.cli) and `serve`, which runs
the whole app with every face. It lives here, not in web/ops/, so that operations import
no face."""

from __future__ import annotations

import click

from web.logs import configure_logging
from web.ops.cli import main
from web.ops.cli_run import settings_of

SERVE_DRAIN_SECONDS = 3


@click.command(help="Run the web app and an in-process worker; creates and migrates the database.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers/--no-workers",
    default=True,
    show_default=True,
    help="Run the inbox and delivery workers in this process; --no-workers leaves them to"
    " `ourdesign worker` processes (on busy instances, so that web requests get a core).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: bool) -> None:
    # Imported here, not at the top, only so that every other command starts without loading
    # the web server and the whole app (uvicorn, every route module, the templates).
    import uvicorn

    from web.app import create_app

    settings = settings_of(ctx)
    configure_logging(settings.log_format, settings.log_level)
    click.echo(f"Our Design at {settings.base_url}, listening on http://{host}:{port}")
    app = create_app(settings, run_workers=workers)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        log_config=None,  # configured above; requests are logged by our middleware
        access_log=False,
        log_level=settings.log_level,
        # On SIGTERM: open requests get this long, then the workers get
        # stop_grace_seconds; the whole stop stays within docs/DEPLOY.md's TimeoutStopSec.
        timeout_graceful_shutdown=SERVE_DRAIN_SECONDS,
    )


# The command group of web.ops.cli, with `serve` added: what `ourdesign` runs.
main.add_command(serve)
