"""The `ourdesign` command."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from actors.models import ENTITY_KINDS, ROLES
from actors.service import create_person, create_token, get_local_actor
from federation.db import REDOABLE_COMMITS
from federation.errors import FederationError
from federation.settings import Settings
from web.instance import Instance, open_instance
from web.logs import configure_logging

T = TypeVar("T")
SERVE_DRAIN_SECONDS = 3


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _run_plain(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro`; a FederationError becomes a click error showing its message."""
    try:
        return asyncio.run(coro)
    except FederationError as exc:
        raise click.ClickException(exc.message) from exc


def _run(settings: Settings, work: Callable[[Instance], Awaitable[T]]) -> T:
    async def main() -> T:
        async with open_instance(settings) as instance:
            return await work(instance)

    return _run_plain(main())


@click.group(
    help="Our Design: a federated server for open designs. Design global, manufacture local."
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help="A TOML settings file (else OURDESIGN_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    try:
        ctx.obj = Settings.from_env(config_file=Path(config) if config else None)
    except FederationError as exc:
        raise click.ClickException(exc.message) from exc


@main.command(help="Run the web app and an in-process worker; creates and migrates the database.")
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
    import uvicorn

    from web.app import create_app

    settings = _settings(ctx)
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


@main.command(help="Run extra inbox, delivery and thumbnail workers here (no web server).")
@click.pass_context
def worker(ctx: click.Context) -> None:
    async def work(instance: Instance) -> None:
        REDOABLE_COMMITS.set(True)  # this process only runs queue workers
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        configure_logging(instance.settings.log_format, instance.settings.log_level)
        click.echo("worker running; Ctrl-C stops it")
        await asyncio.gather(
            instance.inbox_worker.run_forever(stop),
            instance.delivery_worker.run_forever(stop),
            instance.thumbnail_worker.run_forever(stop),
            instance.refresh_blocks_forever(stop),
            *([instance.mail_worker.run_forever(stop)] if instance.mail_worker else []),
        )

    _run(_settings(ctx), work)


@main.command(help="Create the database if needed and apply every migration.")
@click.pass_context
def migrate(ctx: click.Context) -> None:
    async def work(instance: Instance) -> None:
        return None

    _run(_settings(ctx), work)
    click.echo("database is up to date")


@main.group(help="Manage local users.")
def user() -> None:
    pass


@user.command("create", help="Create a local person.")
@click.argument("name")
@click.option("--email", required=True, help="Their email address.")
@click.option("--password", help="Prompted for on a terminal when omitted.")
@click.option(
    "--kind",
    type=click.Choice(ENTITY_KINDS[:-1]),
    default="individual",
    show_default=True,
    help="What kind of entity they are; licences such as PPL depend on it.",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="member",
    show_default=True,
    help="What they may do: moderators review sign-ups and reports, admins also set roles.",
)
@click.pass_context
def user_create(
    ctx: click.Context, name: str, email: str, password: str | None, kind: str, role: str
) -> None:
    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("give --password, or run on a terminal to be prompted")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(instance: Instance) -> str:
        async with instance.sessions() as session:
            actor = await create_person(
                session,
                instance.urls,
                username=name,
                email=email,
                password=password or "",
                entity_kind=kind,
                role=role,
            )
            await session.commit()
            return actor.uri

    click.echo(f"created {_run(_settings(ctx), work)}")


@main.group(help="Manage API tokens.")
def token() -> None:
    pass


@token.command(
    "create", help="Print a new bearer token for NAME's API access; only its hash is kept."
)
@click.argument("name")
@click.option("--label", default="cli", show_default=True, help="A note to recognise the token by.")
@click.pass_context
def token_create(ctx: click.Context, name: str, label: str) -> None:
    async def work(instance: Instance) -> str:
        async with instance.sessions() as session:
            actor = await get_local_actor(session, name)
            if actor is None:
                raise FederationError(f"there is no local user {name!r}")
            value = await create_token(session, actor, label)
            await session.commit()
            return value

    click.echo(_run(_settings(ctx), work))


@main.command(
    help="Check the configuration, database, schema, disk and federation; exit 1 on failure."
)
@click.option(
    "--offline", is_flag=True, help="Skip the federation self-test (which needs `serve` running)."
)
@click.pass_context
def check(ctx: click.Context, offline: bool) -> None:
    from web.checks import CheckResult, run_checks

    results: list[CheckResult] = asyncio.run(run_checks(_settings(ctx), offline=offline))
    for result in results:
        click.echo(result.line())
    if not all(result.ok for result in results):
        ctx.exit(1)


@main.command(
    help="Back up the database and every stored file into DEST_DIR (a new or empty directory)."
    " Safe while the instance runs; every file's SHA-256 is checked as it is copied."
)
@click.argument("dest_dir", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest_dir: Path) -> None:
    from web import backup as backups

    report = _run_plain(backups.backup(_settings(ctx), dest_dir))
    click.echo(f"backed up {report.summary()} into {report.path}")


@main.command(
    help="Restore a backup made by `ourdesign backup` into the configured (fresh) database and"
    " data directory, checking every file's SHA-256, then migrate it."
)
@click.argument("src_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database that already has local users (or of another domain).",
)
@click.pass_context
def restore(ctx: click.Context, src_dir: Path, force: bool) -> None:
    from web import backup as backups

    report = _run_plain(backups.restore(_settings(ctx), src_dir, force=force))
    click.echo(f"restored {report.summary()} from {report.path} (made {report.created})")
    for note in report.notes:
        click.echo(note)


@main.group(help="Database operations.")
def db() -> None:
    pass


@db.command(
    "move-to-postgres",
    help="Copy every row of the configured SQLite database into TARGET_URL, an existing, empty"
    " PostgreSQL database (postgresql+asyncpg://user@host/db), in one transaction; stop the"
    " instance first. The file store stays where it is.",
)
@click.argument("target_url")
@click.pass_context
def db_move_to_postgres(ctx: click.Context, target_url: str) -> None:
    from web.move import move_to_postgres

    report = _run_plain(move_to_postgres(_settings(ctx), target_url))
    click.echo(f"moved {report.rows} rows from {report.source} to {report.target}:")
    for line in report.lines():
        click.echo(line)
    for note in report.notes:
        click.echo(note)
    click.echo(report.next_step())


# These modules add their commands to the groups above, so they are imported once those exist.
from web import cli_accounts, cli_blocks, cli_coop, cli_moderation, cli_queue  # noqa: E402, F401

if __name__ == "__main__":
    # Run as `python -m web.cli` this module is `__main__`, while the command modules above
    # add their commands to the groups of `web.cli`: start that one.
    from web.cli import main as cli_main

    cli_main()
