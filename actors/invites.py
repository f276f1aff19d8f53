"""Invitations: a code in a link that admits new members, even when sign-ups are closed.

An invite may expire, may be limited in uses and may be revoked; `admit` counts a use in
the registering transaction with a conditional update, so two sign-ups racing for the last
use cannot both get it. The caller commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor, Invite
from federation.db import utcnow
from federation.errors import FederationError, ValidationError

MAX_EXPIRES_IN = dt.timedelta(days=366)
MAX_USES = 100_000
USED_UP = "this invite has been used as often as it may be; ask for a new one"
# Letters and digits only: a code never starts with "-" (read as an option by the CLI).
CODE_ALPHABET = string.ascii_letters + string.digits


def invite_problem(invite: Invite, now: dt.datetime | None = None) -> str | None:
    """Why the invite cannot be used now, or None when it can."""
    now = now or utcnow()
    if invite.revoked_at is not None:
        return "this invite was revoked; ask the member who shared it for a new one"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "this invite has expired; ask the member who shared it for a new one"
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return USED_UP
    return None


async def find_invite(session: AsyncSession, code: str) -> Invite:
    invite = await session.scalar(select(Invite).where(Invite.code == code.strip()))
    if invite is None:
        raise FederationError(
            "there is no invite with this code; check the link you were sent", status=404
        )
    return invite


async def usable_invite(session: AsyncSession, code: str) -> Invite:
    """The invite with `code`, or 422 saying why it cannot admit anyone (404 if unknown)."""
    try:
        invite = await find_invite(session, code)
    except FederationError as exc:
        raise ValidationError(exc.message) from exc
    problem = invite_problem(invite)
    if problem is not None:
        raise ValidationError(problem)
    return invite


async def admit(session: AsyncSession, invite: Invite) -> None:
    """Count one use of a usable invite; fails if a concurrent sign-up took the last one."""
    counted = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite.id,
            or_(Invite.max_uses.is_(None), Invite.uses < Invite.max_uses),
        )
        .values(uses=Invite.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(counted, "rowcount", 1) != 1:
        raise ValidationError(USED_UP)


async def create_invite(
    session: AsyncSession,
    creator: Actor | None,
    *,
    expires_in: dt.timedelta | None = None,
    max_uses: int | None = None,
) -> Invite:
    if expires_in is not None and not dt.timedelta(0) < expires_in <= MAX_EXPIRES_IN:
        raise ValidationError("an invite expires after 1 second to 366 days; omit it for never")
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise ValidationError(f"max_uses must be 1 to {MAX_USES}; omit it for no limit")
    invite = Invite(
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(16)),
        created_by_id=creator.id if creator is not None else None,
        expires_at=utcnow() + expires_in if expires_in is not None else None,
        max_uses=max_uses,
        uses=0,
    )
    session.add(invite)
    await session.flush()
    return invite


async def invites_by(session: AsyncSession, creator: Actor | None) -> Sequence[Invite]:
    """Invites made by `creator`, or every invite when None (the command line)."""
    query = select(Invite).order_by(Invite.id.desc())
    if creator is not None:
        query = query.where(Invite.created_by_id == creator.id)
    return (await session.scalars(query)).all()


def revoke(invite: Invite) -> None:
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
