"""Staff decisions on local accounts: approving or rejecting sign-ups, and roles.

Each decision is written to the audit log (moderator None when it came from the command
line) and, with mail set up, told to the person. The caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.account_mail import queue_approved, queue_rejected
from actors.models import Account, Actor
from actors.moderation import record_audit
from actors.service import check_role, get_local_actor, local_account
from federation.errors import FederationError, ValidationError
from federation.settings import Settings

STATUSES = ("pending", "active", "all")


async def local_accounts(
    session: AsyncSession, status: str = "all", limit: int = 100
) -> Sequence[tuple[Actor, Account]]:
    """Local people with their accounts, newest first; pending = waiting for approval."""
    if status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    query = (
        select(Actor, Account)
        .join(Account, Account.actor_id == Actor.id)
        .where(Actor.deleted_at.is_(None))
        .order_by(Account.created_at.desc(), Actor.id.desc())
        .limit(limit)
    )
    if status != "all":
        query = query.where(Account.approved.is_(status == "active"))
    return [(actor, account) for actor, account in (await session.execute(query)).all()]


async def account_by_id(session: AsyncSession, actor_id: int) -> tuple[Actor, Account]:
    found = await local_account(session, Actor.id == actor_id)
    if found is None:
        raise FederationError(f"there is no local account with id {actor_id}", status=404)
    return found


async def account_by_name(session: AsyncSession, username: str) -> tuple[Actor, Account]:
    found = await local_account(session, Actor.username == username)
    if found is not None:
        return found
    # Only when it fails: a local actor without an account (a project, the instance actor)
    # is told apart from no such name, as the messages always have.
    actor = await get_local_actor(session, username)
    if actor is None:
        raise FederationError(f"there is no local user {username!r}", status=404)
    raise FederationError(f"there is no local account with id {actor.id}", status=404)


def _pending(actor: Actor, account: Account) -> None:
    if account.approved:
        raise ValidationError(f"@{actor.username} is approved already; nothing to decide")


async def approve(
    session: AsyncSession, settings: Settings, moderator: Actor | None, actor_id: int
) -> tuple[Actor, Account]:
    actor, account = await account_by_id(session, actor_id)
    _pending(actor, account)
    account.approved = True
    await record_audit(session, moderator, "approve_account", "account", actor.uri)
    if settings.mail_enabled:
        queue_approved(session, settings, account.email, actor.username)
    return actor, account


async def reject(
    session: AsyncSession, settings: Settings, moderator: Actor | None, actor_id: int
) -> tuple[Actor, Account]:
    """Delete a pending sign-up; returns what it was, for the answer."""
    actor, account = await account_by_id(session, actor_id)
    _pending(actor, account)
    await record_audit(
        session, moderator, "reject_account", "account", actor.uri, username=actor.username
    )
    if settings.mail_enabled:
        queue_rejected(session, settings, account.email, actor.username)
    # Nothing of a person who never signed in refers to the actor but rows that cascade.
    await session.execute(delete(Account).where(Account.actor_id == actor.id))
    await session.execute(delete(Actor).where(Actor.id == actor.id))
    return actor, account


async def set_role(
    session: AsyncSession, moderator: Actor | None, actor_id: int, role: str
) -> tuple[Actor, Account]:
    check_role(role)
    actor, account = await account_by_id(session, actor_id)
    previous = account.role
    if previous == "admin" and role != "admin" and await _admin_count(session) <= 1:
        raise ValidationError(f"@{actor.username} is the only admin; make someone else admin first")
    account.role = role
    await record_audit(
        session, moderator, "change_role", "account", actor.uri, previous=previous, role=role
    )
    return actor, account


async def _admin_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Account).where(Account.role == "admin")
        )
        or 0
    )
