"""Moderation on the server's command line: account actions, the report queue, the audit log.

web.ops.cli adds these commands to its `ourdesign` and `ourdesign user` groups. Actions
taken here are audited with no moderator: whoever can run this owns the server.
"""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.reports import (
    ACTIONS,
    act_on_account,
    audit_page,
    get_report,
    list_reports,
    resolve_report,
    undo_account_action,
)
from actors.service import actors_by_id
from federation.errors import FederationError
from federation.webfinger import parse_handle
from web.instance import Instance
from web.ops.cli_run import run, settings_of


async def _actor_named(session: AsyncSession, instance: Instance, ref: str) -> Actor:
    """A local NAME, a handle user@domain or an actor URI, of an actor known here."""
    ref = ref.strip()
    if ref.startswith(("https://", "http://")):
        query = select(Actor).where(Actor.uri == ref)
    elif "@" in ref.lstrip("@"):
        username, host = parse_handle(ref)
        query = select(Actor).where(Actor.username == username, Actor.domain == host)
    else:
        query = select(Actor).where(Actor.local.is_(True), Actor.username == ref.lower())
    actor = await session.scalar(query.where(Actor.deleted_at.is_(None)))
    if actor is None:
        raise FederationError(f"no account {ref!r} is known here (give NAME, user@domain or URI)")
    return actor


def _account_command(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("name_or_handle")
    @click.option("--reason", default="", help="Why; kept in the audit log.")
    @click.pass_context
    def command(ctx: click.Context, name_or_handle: str, reason: str) -> None:
        async def work(instance: Instance) -> str:
            async with instance.sessions() as session:
                target = await _actor_named(session, instance, name_or_handle)
                if action in ACTIONS:
                    await act_on_account(session, None, target, action, text=reason)
                else:
                    await undo_account_action(session, None, target, action)
                await session.commit()
                return target.handle

        click.echo(f"{action}: {run(settings_of(ctx), work)}")

    return command


# The commands `ourdesign user` gets from here (web.ops.cli adds them to its group).
USER_COMMANDS: tuple[click.Command, ...] = (
    _account_command(
        "suspend", "Suspend a local or remote account: it is neither heard nor shown."
    ),
    _account_command("unsuspend", "Lift an account's suspension."),
    _account_command("silence", "Silence an account: hidden from public listings."),
    _account_command("unsilence", "Lift an account's silencing."),
)


@click.group(help="The moderators' queue of reports.")
def reports() -> None:
    pass


@reports.command("list", help="List open reports, newest first.")
@click.option("--all", "show_all", is_flag=True, help="List resolved reports instead.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.pass_context
def reports_list(ctx: click.Context, show_all: bool, limit: int) -> None:
    async def work(instance: Instance) -> list[str]:
        async with instance.sessions() as session:
            rows = await list_reports(session, resolved=show_all, limit=limit)
            actors = await actors_by_id(session, (r.target_id for r in rows))
        return [
            f"{r.id}\t{r.state}\t{r.category}\t{actors[r.target_id].handle}"
            f"\tfrom {r.origin_domain or 'here'}\t{r.comment[:60]!r}"
            for r in rows
        ]

    lines = run(settings_of(ctx), work)
    click.echo("\n".join(lines) if lines else "no reports")


@reports.command("resolve", help="Resolve report ID, optionally acting on its account.")
@click.argument("report_id", type=int)
@click.option("--action", type=click.Choice(ACTIONS), default="none", show_default=True)
@click.pass_context
def reports_resolve(ctx: click.Context, report_id: int, action: str) -> None:
    async def work(instance: Instance) -> None:
        async with instance.sessions() as session:
            report = await get_report(session, report_id)
            if action == "none":
                await resolve_report(session, report, None)
            else:
                target = await session.get(Actor, report.target_id)
                assert target is not None
                await act_on_account(session, None, target, action, report=report)
            await session.commit()

    run(settings_of(ctx), work)
    click.echo(f"report {report_id} resolved ({action})")


@click.command(help="Show the moderation audit log, newest first.")
@click.option("--limit", default=40, show_default=True, type=click.IntRange(1, 1000))
@click.pass_context
def audit(ctx: click.Context, limit: int) -> None:
    async def work(instance: Instance) -> list[str]:
        async with instance.sessions() as session:
            rows = await audit_page(session, limit=limit)
            moderators = await actors_by_id(session, (e.moderator_id for e in rows))
        return [
            f"{e.created_at:%Y-%m-%d %H:%M:%S}\t{e.action}\t{e.target}"
            f"\tby {moderators[e.moderator_id].handle if e.moderator_id in moderators else 'cli'}"
            f"\t{e.detail}"
            for e in rows
        ]

    lines = run(settings_of(ctx), work)
    click.echo("\n".join(lines) if lines else "the audit log is empty")
