"""`ourdesign queue`: the inbox, delivery and push items given up on, listed and retried by
hand.

web.ops.cli adds its group to the `ourdesign` command.
"""

from __future__ import annotations

import click

from inbox.queue_admin import QUEUES, failed_rows, retry_failed
from web.instance import Instance
from web.ops.cli_run import run, settings_of


@click.group(help="Look at the inbox, delivery and push queues; retry what they gave up on.")
def queue() -> None:
    pass


@queue.command("list", help="List the items the queues gave up on (state failed).")
@click.option("--failed", is_flag=True, default=True, help="Given-up items (the default).")
@click.option("--queue", "which", type=click.Choice(QUEUES), help="Only this queue.")
@click.option("--limit", default=100, show_default=True, help="At most this many per queue.")
@click.pass_context
def list_failed(ctx: click.Context, failed: bool, which: str | None, limit: int) -> None:
    async def work(instance: Instance) -> list[str]:
        async with instance.sessions() as session:
            return [
                row.line()
                for name in ([which] if which else QUEUES)
                for row in await failed_rows(session, name, limit)
            ]

    lines = run(settings_of(ctx), work)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("nothing was given up")


@queue.command(
    "retry",
    help="Retry given-up items of QUEUE (inbox, delivery or push) now, with a fresh schedule: the"
    " IDs that `queue list` shows, or --all.",
)
@click.argument("which", metavar="QUEUE", type=click.Choice(QUEUES))
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every given-up item of QUEUE.")
@click.pass_context
def retry(ctx: click.Context, which: str, ids: tuple[int, ...], every: bool) -> None:
    if bool(ids) == every:
        raise click.UsageError("give the IDs to retry, or --all")

    async def work(instance: Instance) -> int:
        async with instance.sessions() as session:
            count = await retry_failed(session, which, None if every else list(ids))
            await session.commit()
            return count

    count = run(settings_of(ctx), work)
    click.echo(f"{count} {which} item(s) due again; a running worker picks them up")
