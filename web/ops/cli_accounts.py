"""`ourdesign user ...` account commands and `ourdesign invite ...`; web.ops.cli adds them.

Actions taken here are audited with no moderator: they come from someone with shell access
to the server.
"""

from __future__ import annotations

import datetime as dt
import re
import sys

import click

from actors import account_admin
from actors.invites import create_invite, find_invite, invite_problem, invites_by, revoke
from actors.models import ROLES
from actors.moderation import record_audit
from actors.registration import set_password
from objects.blobs import human_bytes
from objects.upload_quota import set_upload_quota, upload_quota
from web.account_json import invite_url, iso
from web.instance import Instance
from web.ops.cli_run import run, settings_of

_DURATION = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str) -> dt.timedelta:
    """'90', '90s', '30m', '12h', '7d' or '2w'."""
    match = _DURATION.match(value.strip().lower())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a duration like 12h, 7d or 2w")
    return dt.timedelta(seconds=int(match[1]) * _UNITS[match[2]])


@click.command("role", help="Give NAME the role ROLE (member, moderator or admin).")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def user_role(ctx: click.Context, name: str, role: str) -> None:
    async def work(instance: Instance) -> None:
        async with instance.sessions() as session:
            actor, _ = await account_admin.account_by_name(session, name)
            await account_admin.set_role(session, None, actor.id, role)
            await session.commit()

    run(settings_of(ctx), work)
    click.echo(f"{name} is now {role}")


def _decision(verb: str, past: str) -> click.Command:
    decide = getattr(account_admin, verb)

    @click.command(verb, help=f"{verb.capitalize()} NAME's pending request to join.")
    @click.argument("name")
    @click.pass_context
    def command(ctx: click.Context, name: str) -> None:
        async def work(instance: Instance) -> None:
            async with instance.sessions() as session:
                actor, _ = await account_admin.account_by_name(session, name)
                await decide(session, instance.settings, None, actor.id)
                await session.commit()

        run(settings_of(ctx), work)
        click.echo(f"{name} {past}")

    return command


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$")
_SIZE_UNITS = {"k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_size(value: str) -> int:
    """'5000000', '500MB', '5GB', '2GiB' (decimal and binary units) as bytes."""
    match = _SIZE.match(value.strip().lower())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a size like 500MB, 5GB or 2GiB")
    unit = (match[2] or "b").rstrip("b")
    scale = 1 if not unit else _SIZE_UNITS[unit[0]]
    if unit.endswith("i"):
        scale = 1024 ** (" kmgt".index(unit[0]))
    return int(float(match[1]) * scale)


@click.command(
    "quota",
    help="Set how much NAME may store by uploading: a SIZE such as 500MB or 5GB (0: nothing), "
    "or 'default' for the instance's default_upload_quota_bytes.",
)
@click.argument("name")
@click.argument("size")
@click.pass_context
def user_quota(ctx: click.Context, name: str, size: str) -> None:
    quota = None if size.strip().lower() == "default" else parse_size(size)

    async def work(instance: Instance) -> tuple[int, int | None]:
        async with instance.sessions() as session:
            actor, account = await account_admin.account_by_name(session, name)
            await set_upload_quota(session, account, quota)
            await record_audit(session, None, "set_upload_quota", "account", actor.uri)
            await session.commit()
        allowed = await upload_quota(
            instance.sessions, actor, instance.settings.default_upload_quota_bytes
        )
        return allowed.used, allowed.quota

    used, effective = run(settings_of(ctx), work)
    limit = "no quota" if effective is None else f"a quota of {human_bytes(effective)}"
    click.echo(f"{name} has {limit} and stores {human_bytes(used)}")


@click.command("password", help="Set NAME's password; this signs out every app they use.")
@click.argument("name")
@click.option("--password", help="Prompted for on a terminal when omitted.")
@click.pass_context
def user_password(ctx: click.Context, name: str, password: str | None) -> None:
    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("give --password, or run on a terminal to be prompted")
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)

    async def work(instance: Instance) -> None:
        async with instance.sessions() as session:
            actor, _ = await account_admin.account_by_name(session, name)
            await set_password(session, actor, password or "")
            await record_audit(session, None, "set_password", "account", actor.uri)
            await session.commit()

    run(settings_of(ctx), work)
    click.echo(f"password of {name} changed; their API tokens are revoked")


@click.command("list", help="List local accounts, newest first.")
@click.option("--pending", is_flag=True, help="Only requests waiting for approval.")
@click.pass_context
def user_list(ctx: click.Context, pending: bool) -> None:
    async def work(instance: Instance) -> list[str]:
        async with instance.sessions() as session:
            rows = await account_admin.local_accounts(
                session, "pending" if pending else "all", limit=10_000
            )
        return [
            "\t".join(
                [
                    actor.username,
                    account.email,
                    account.role,
                    "approved" if account.approved else "pending",
                    "confirmed" if account.confirmed_at else "unconfirmed",
                    account.reason.replace("\n", " ")[:80],
                ]
            )
            for actor, account in rows
        ]

    for line in run(settings_of(ctx), work):
        click.echo(line)


@click.group(help="Manage invite links (they admit new members even when sign-ups are closed).")
def invite() -> None:
    pass


@invite.command("create", help="Create an invite link and print its URL.")
@click.option("--expires-in", help="How long it stays valid: 12h, 7d, 2w ... (default: always).")
@click.option("--max-uses", type=click.IntRange(min=1), help="How many may join with it.")
@click.pass_context
def invite_create(ctx: click.Context, expires_in: str | None, max_uses: int | None) -> None:
    lifetime = parse_duration(expires_in) if expires_in else None

    async def work(instance: Instance) -> str:
        async with instance.sessions() as session:
            made = await create_invite(session, None, expires_in=lifetime, max_uses=max_uses)
            await record_audit(session, None, "create_invite", "invite", made.code)
            await session.commit()
        return invite_url(instance.settings.base_url, made.code)

    click.echo(run(settings_of(ctx), work))


@invite.command("list", help="List every invite with its uses and state.")
@click.pass_context
def invite_list(ctx: click.Context) -> None:
    async def work(instance: Instance) -> list[str]:
        async with instance.sessions() as session:
            invites = await invites_by(session, None)
        return [
            "\t".join(
                [
                    i.code,
                    f"{i.uses}/{i.max_uses if i.max_uses is not None else '-'} uses",
                    f"expires {iso(i.expires_at) or 'never'}",
                    "valid" if invite_problem(i) is None else "not valid",
                ]
            )
            for i in invites
        ]

    for line in run(settings_of(ctx), work):
        click.echo(line)


@invite.command("revoke", help="Revoke the invite CODE; it admits nobody from now on.")
@click.argument("code")
@click.pass_context
def invite_revoke(ctx: click.Context, code: str) -> None:
    async def work(instance: Instance) -> None:
        async with instance.sessions() as session:
            revoke(await find_invite(session, code))
            await record_audit(session, None, "revoke_invite", "invite", code)
            await session.commit()

    run(settings_of(ctx), work)
    click.echo(f"invite {code} revoked")


# The commands `ourdesign user` gets from here (web.ops.cli adds them to its group).
USER_COMMANDS: tuple[click.Command, ...] = (
    user_role,
    _decision("approve", "approved; they can sign in now"),
    _decision("reject", "rejected; the request is deleted"),
    user_quota,
    user_password,
    user_list,
)
