"""The `ourdesign` command group: the worker, database and account commands, and the
subcommands of the `cli_*` modules, added explicitly at the end. `serve`, which runs every
face, is added by web.main, the entry point."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from actors.models import ENTITY_KINDS, ROLES
from actors.service import create_person, create_token, get_local_actor
from federation.db import REDOABLE_COMMITS
from federation.errors import FederationError
from federation.settings import Settings
from web.instance import Instance
from web.logs import configure_logging
from web.ops import backup as backups
from web.ops import cli_accounts, cli_blocks, cli_coop, cli_moderation, cli_queue, cli_storage
from web.ops.checks import CheckResult, run_checks
from web.ops.cli_run import run, run_plain, settings_of
from web.ops.cli_worker import QUEUES, queue_names, queue_runners
from web.ops.move import move_to_postgres


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


@main.command(help="Run queue workers here (no web server): every queue, or those named.")
@click.option(
    "--queues",
    default=",".join(QUEUES),
    show_default=True,
    help="Which queues this process works on, separated by commas.",
)
@click.pass_context
def worker(ctx: click.Context, queues: str) -> None:
    names = queue_names(queues)

    async def work(instance: Instance) -> None:
        REDOABLE_COMMITS.set(True)  # this process only runs queue workers
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        configure_logging(instance.settings.log_format, instance.settings.log_level)
        click.echo(f"worker running for {', '.join(names)}; Ctrl-C stops it")
        await asyncio.gather(
            *(run_forever(stop) for run_forever in queue_runners(instance, names)),
            instance.refresh_blocks_forever(stop),
            instance.listen_forever(stop),
        )

    run(settings_of(ctx), work)


@main.command(help="Create the database if needed and apply every migration.")
@click.pass_context
def migrate(ctx: click.Context) -> None:
    async def work(instance: Instance) -> None:
        return None

    run(settings_of(ctx), work)
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

    click.echo(f"created {run(settings_of(ctx), work)}")


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

    click.echo(run(settings_of(ctx), work))


@main.command(
    help="Check the configuration, database, schema, disk and federation; exit 1 on failure."
)
@click.option(
    "--offline", is_flag=True, help="Skip the federation self-test (which needs `serve` running)."
)
@click.pass_context
def check(ctx: click.Context, offline: bool) -> None:
    results: list[CheckResult] = asyncio.run(run_checks(settings_of(ctx), offline=offline))
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
    report = run_plain(backups.backup(settings_of(ctx), dest_dir))
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
    report = run_plain(backups.restore(settings_of(ctx), src_dir, force=force))
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
    report = run_plain(move_to_postgres(settings_of(ctx), target_url))
    click.echo(f"moved {report.rows} rows from {report.source} to {report.target}:")
    for line in report.lines():
        click.echo(line)
    for note in report.notes:
        click.echo(note)
    click.echo(report.next_step())


# The subcommands of the command modules, added here so that they import nothing from this one.
for _command in (*cli_accounts.USER_COMMANDS, *cli_moderation.USER_COMMANDS):
    user.add_command(_command)
for _command in (
    cli_accounts.invite,
    cli_blocks.blocks,
    cli_coop.coop,
    cli_moderation.reports,
    cli_moderation.audit,
    cli_queue.queue,
    cli_storage.storage,
):
    main.add_command(_command)

if __name__ == "__main__":
    main()
