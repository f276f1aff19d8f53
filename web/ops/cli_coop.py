"""`ourdesign coop`: the cooperative's boosts from the server's command line (audited).

web.ops.cli adds its group to the `ourdesign` command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import click
from sqlalchemy.ext.asyncio import AsyncSession

from actors.moderation import record_audit
from federation.settings import Settings
from federation.urls import LocalUrls
from outbox.coop import boost, unboost
from web.instance import Instance
from web.ops.cli_run import run, settings_of

BoostChange = Callable[[AsyncSession, LocalUrls, Settings, str], Awaitable[bool]]


@click.group(help="The cooperative's own account (@coop): boosting designs.")
def coop() -> None:
    pass


def _change_boost(ctx: click.Context, uri: str, change: BoostChange, action: str) -> bool:
    """Boost or un-boost, audited when something changed; False when nothing did."""

    async def work(instance: Instance) -> bool:
        async with instance.sessions() as session:
            changed = await change(session, instance.urls, instance.settings, uri)
            if changed:
                await record_audit(session, None, action, "version", uri)
            await session.commit()
            return changed

    return run(settings_of(ctx), work)


@coop.command("boost", help="Have the cooperative boost the design version at URI.")
@click.argument("uri")
@click.pass_context
def coop_boost(ctx: click.Context, uri: str) -> None:
    created = _change_boost(ctx, uri, boost, "coop.boost")
    click.echo(f"boosted {uri}" if created else f"already boosted {uri}")


@coop.command("unboost", help="Withdraw the cooperative's boost of the design version at URI.")
@click.argument("uri")
@click.pass_context
def coop_unboost(ctx: click.Context, uri: str) -> None:
    if not _change_boost(ctx, uri, unboost, "coop.unboost"):
        raise click.ClickException(f"the cooperative has not boosted {uri}")
    click.echo(f"withdrew the boost of {uri}")
