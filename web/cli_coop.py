"""`ourdesign coop`: the cooperative's boosts from the server's command line (audited).

web.cli imports this module last, once `main` exists.
"""

from __future__ import annotations

import click

from actors.moderation import record_audit
from web.cli import _run, _settings, main
from web.coop import boost, unboost
from web.instance import Instance


@main.group(help="The cooperative's own account (@coop): boosting designs.")
def coop() -> None:
    pass


@coop.command("boost", help="Have the cooperative boost the design version at URI.")
@click.argument("uri")
@click.pass_context
def coop_boost(ctx: click.Context, uri: str) -> None:
    async def work(instance: Instance) -> bool:
        async with instance.sessions() as session:
            created = await boost(session, instance.urls, instance.settings, uri)
            if created:
                await record_audit(session, None, "coop.boost", "version", uri)
            await session.commit()
            return created

    created = _run(_settings(ctx), work)
    click.echo(f"boosted {uri}" if created else f"already boosted {uri}")


@coop.command("unboost", help="Withdraw the cooperative's boost of the design version at URI.")
@click.argument("uri")
@click.pass_context
def coop_unboost(ctx: click.Context, uri: str) -> None:
    async def work(instance: Instance) -> bool:
        async with instance.sessions() as session:
            undone = await unboost(session, instance.urls, instance.settings, uri)
            if undone:
                await record_audit(session, None, "coop.unboost", "version", uri)
            await session.commit()
            return undone

    if not _run(_settings(ctx), work):
        raise click.ClickException(f"the cooperative has not boosted {uri}")
    click.echo(f"withdrew the boost of {uri}")
