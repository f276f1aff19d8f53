"""`ourdesign blocks`: domain blocks from the server's command line (audited, moderator None).

web.ops.cli adds its group to the `ourdesign` command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from actors.moderation import (
    domain_blocks,
    lift_domain_block,
    put_domain_block,
    record_audit,
)
from actors.moderation_models import SEVERITIES, DomainBlock
from federation.blocks import SUSPEND
from federation.errors import FederationError
from web.blocklists import export_csv, import_csv
from web.instance import BLOCKS_REFRESH_SECONDS, Instance
from web.ops.cli_run import run, settings_of

PICKED_UP = f"a running server applies this within {BLOCKS_REFRESH_SECONDS:.0f} s"


@click.group(help="Block remote domains (and their subdomains), as Mastodon does.")
def blocks() -> None:
    pass


@blocks.command("add", help="Block DOMAIN, or change its block.")
@click.argument("domain")
@click.option("--severity", type=click.Choice(SEVERITIES), default=SUSPEND, show_default=True)
@click.option("--reject-media", is_flag=True, help="Do not show or link their images.")
@click.option("--reject-reports", is_flag=True, help="Ignore reports (Flags) they send.")
@click.option("--reason", default="", help="A note for moderators only.")
@click.option("--public-reason", default="", help="Shown in the public list of blocks.")
@click.option("--obfuscate", is_flag=True, help="Partly hide the domain in the public list.")
@click.pass_context
def add(
    ctx: click.Context,
    domain: str,
    severity: str,
    reject_media: bool,
    reject_reports: bool,
    reason: str,
    public_reason: str,
    obfuscate: bool,
) -> None:
    fields: dict[str, Any] = {
        "severity": severity,
        "reject_media": reject_media,
        "reject_reports": reject_reports,
        "private_comment": reason,
        "public_comment": public_reason,
        "obfuscate": obfuscate,
    }

    async def work(instance: Instance) -> str:
        async with instance.sessions() as session:
            block, created = await put_domain_block(
                session, domain, local_host=instance.urls.host, **fields
            )
            action = "domain_block.create" if created else "domain_block.update"
            await record_audit(session, None, action, "domain", block.domain, **fields)
            await session.commit()
            return f"{block.domain}: {block.severity}"

    click.echo(f"blocked {run(settings_of(ctx), work)}; {PICKED_UP}")


@blocks.command("remove", help="Lift the block of DOMAIN.")
@click.argument("domain")
@click.pass_context
def remove(ctx: click.Context, domain: str) -> None:
    async def work(instance: Instance) -> str:
        async with instance.sessions() as session:
            block = await lift_domain_block(session, domain)
            if block is None:
                raise FederationError(f"{domain} is not blocked; see 'ourdesign blocks list'")
            await record_audit(session, None, "domain_block.delete", "domain", block.domain)
            await session.commit()
            return block.domain

    click.echo(f"lifted the block of {run(settings_of(ctx), work)}; {PICKED_UP}")


@blocks.command("list", help="List the blocks, one a line.")
@click.pass_context
def list_(ctx: click.Context) -> None:
    async def work(instance: Instance) -> list[str]:
        async with instance.sessions() as session:
            return [_line(b) for b in await domain_blocks(session)]

    for line in run(settings_of(ctx), work) or ["no domains are blocked"]:
        click.echo(line)


def _line(block: DomainBlock) -> str:
    flags = [
        name for name in ("reject_media", "reject_reports", "obfuscate") if getattr(block, name)
    ]
    return "\t".join([block.domain, block.severity, ",".join(flags)])


@blocks.command("import", help="Import a Mastodon blocklist CSV; one bad line imports nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, file: Path) -> None:
    text = file.read_text(encoding="utf-8")

    async def work(instance: Instance) -> dict[str, int]:
        async with instance.sessions() as session:
            summary = await import_csv(session, text, local_host=instance.urls.host, moderator=None)
            await session.commit()
            return summary.counts()

    counts = run(settings_of(ctx), work)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()) + f"; {PICKED_UP}")


@blocks.command("export", help="Write the blocks as a Mastodon CSV to FILE (else stdout).")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, file: Path | None) -> None:
    async def work(instance: Instance) -> str:
        async with instance.sessions() as session:
            return await export_csv(session)

    text = run(settings_of(ctx), work)
    if file is None:
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {file}")
