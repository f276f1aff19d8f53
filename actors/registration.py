"""Joining and signing in: registration by mode, address confirmation, password reset.

`settings.registration_mode` decides who may join: open (at once), approval (a moderator
accepts each request), invite (only with an invite code) or closed (only with an invite
code). With mail set up, a new address is confirmed through a mailed link first. Mailed
tokens are single-use and stored only as SHA-256. Every function leaves the commit to the
caller, and raises before changing anything when the input is wrong; the one exception is
a wrong password, which `sign_in` commits so that the sign-in limits count it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.account_mail import queue_confirmation, queue_password_reset
from actors.browser_models import BrowserSession
from actors.invites import admit, usable_invite
from actors.models import Account, AccountToken, Actor, ApiToken
from actors.service import (
    check_new_password,
    check_password,
    create_person_account,
    hash_password,
    local_account,
    password_needs_rehash,
    secret_hash,
)
from actors.sign_in_limits import attempt_succeeded, begin_attempt, failure_keys
from federation.db import utcnow
from federation.errors import FederationError, ValidationError
from federation.settings import Settings
from federation.urls import LocalUrls

CONFIRM = "confirm"
RESET = "reset"
LIFETIMES = {CONFIRM: dt.timedelta(days=2), RESET: dt.timedelta(hours=1)}
MAX_REASON = 2000
WRONG_LOGIN = "the user name, email address or password is wrong"


@dataclass
class Registration:
    """What someone sends to join."""

    username: str
    email: str
    password: str
    agreement: bool
    locale: str = ""
    reason: str = ""
    invite_code: str = ""


async def register(
    session: AsyncSession, urls: LocalUrls, settings: Settings, form: Registration
) -> tuple[Actor, Account]:
    """Create the account as the registration mode allows, queuing a confirmation mail."""
    if not form.agreement:
        raise ValidationError("accept the instance's rules and terms: send agreement=true")
    if len(form.reason) > MAX_REASON:
        raise ValidationError(f"keep the reason under {MAX_REASON} characters")
    invite = await usable_invite(session, form.invite_code) if form.invite_code else None
    if invite is None:
        _check_mode_admits(settings.registration_mode, form.reason)
    actor, account = await create_person_account(
        session, urls, username=form.username, email=form.email.strip(), password=form.password
    )
    account.reason = form.reason.strip()
    account.approved = invite is not None or settings.registration_mode == "open"
    if invite is not None:
        await admit(session, invite)
        account.invite_id = invite.id
    if settings.mail_enabled:
        account.confirmed_at = None
        token = await issue_token(session, actor.id, CONFIRM)
        queue_confirmation(session, settings, account.email, actor.username, token)
    await session.flush()
    return actor, account


def _check_mode_admits(mode: str, reason: str) -> None:
    if mode == "closed":
        raise FederationError(
            "registrations are closed on this instance; a member can send you an invite link",
            status=403,
        )
    if mode == "invite":
        raise FederationError(
            "this instance admits new members by invitation only; register with the "
            "invite_code of an invite link a member sent you",
            status=403,
        )
    if mode == "approval" and not reason.strip():
        raise ValidationError(
            "say in 'reason' why you would like to join; a moderator reads it before approving"
        )


# --- mailed one-time tokens -------------------------------------------------------------------


async def issue_token(session: AsyncSession, actor_id: int, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            actor_id=actor_id,
            purpose=purpose,
            token_hash=secret_hash(token),
            expires_at=utcnow() + LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def redeem_token(session: AsyncSession, token: str, purpose: str) -> AccountToken:
    """Use a mailed token once: 400 if unknown, 410 if used or expired."""
    row = await session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == secret_hash(token.strip()), AccountToken.purpose == purpose
        )
    )
    if row is None:
        raise FederationError(
            "this link or token is not valid; copy it whole from the mail", status=400
        )
    if row.used_at is not None:
        raise FederationError("this link or token was used already; ask for a new one", status=410)
    if row.expires_at <= utcnow():
        raise FederationError("this link or token has expired; ask for a new one", status=410)
    row.used_at = utcnow()
    return row


# --- confirming the address -------------------------------------------------------------------


async def confirm_address(session: AsyncSession, token: str) -> tuple[Actor, Account]:
    row = await redeem_token(session, token, CONFIRM)
    account = await session.get(Account, row.actor_id)
    actor = await session.get(Actor, row.actor_id)
    if account is None or actor is None or actor.deleted_at is not None:
        raise FederationError("the account of this link no longer exists", status=410)
    account.confirmed_at = account.confirmed_at or utcnow()
    return actor, account


async def confirmation_pending(session: AsyncSession, settings: Settings, account: Account) -> bool:
    """Whether the address still waits for its link.

    Accounts made before mail was set up (or by an admin) never got a link and are not held
    back; nor is anyone when mail is switched off, since no link could reach them.
    """
    if not settings.mail_enabled or account.confirmed_at is not None:
        return False
    links = await session.scalar(
        select(func.count())
        .select_from(AccountToken)
        .where(AccountToken.actor_id == account.actor_id, AccountToken.purpose == CONFIRM)
    )
    return bool(links)


async def resend_confirmation(session: AsyncSession, settings: Settings, email: str) -> None:
    """Mail a new link if `email` belongs to an unconfirmed account; silent otherwise."""
    found = await _account_by_email(session, email)
    if found is None or not settings.mail_enabled or found[1].confirmed_at is not None:
        return
    actor, account = found
    token = await issue_token(session, actor.id, CONFIRM)
    queue_confirmation(session, settings, account.email, actor.username, token)


# --- signing in -------------------------------------------------------------------------------


@functools.cache
def _decoy_hash() -> str:
    # Checked against when the login is unknown, so both failures take as long.
    return hash_password(secrets.token_hex(16))


async def sign_in(
    session: AsyncSession, settings: Settings, login: str, password: str, *, client_ip: str
) -> Actor:
    """The person whose login and password match, if they may sign in now.

    Every password sign-in (browser form, OAuth authorize form, /api/v1/auth/token) comes
    here, so all share one limit on failures per login and per `client_ip` (see
    `sign_in_limits`). The attempt is committed as a failure before the password is
    checked, and a right password clears it and the login's failures, committed at once:
    call this before anything else is pending in `session`. A success upgrades an old
    password hash; the caller commits that.
    """
    found = await _account_by_login(session, login.strip())
    keys = failure_keys(found[0].username if found else login, client_ip)
    attempt = await begin_attempt(session, keys)  # counted (and committed) as a failure
    if found is None:
        await asyncio.to_thread(check_password, password, _decoy_hash())
        raise FederationError(WRONG_LOGIN, status=401)
    actor, account = found
    if not await asyncio.to_thread(check_password, password, account.password_hash):
        raise FederationError(WRONG_LOGIN, status=401)
    # The password was right: whatever else stops the sign-in is no failure to count.
    await attempt_succeeded(session, keys, attempt)
    await session.commit()
    _check_may_sign_in(actor, account)
    if await confirmation_pending(session, settings, account):
        raise FederationError(
            f"confirm your address first: follow the link mailed to {account.email}. For a "
            'new link, POST /api/v1/accounts/confirmation with {"email": "..."}',
            status=403,
        )
    if password_needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(hash_password, password)
    return actor


def _check_may_sign_in(actor: Actor, account: Account) -> None:
    if actor.suspended_at is not None:
        raise FederationError(
            "this account is suspended; ask the instance's moderators why", status=403
        )
    if not account.approved:
        raise FederationError(
            "your request to join is waiting for a moderator's approval; you can sign in "
            "once it is approved",
            status=403,
        )


async def _account_by_login(session: AsyncSession, login: str) -> tuple[Actor, Account] | None:
    if "@" in login:
        return await _account_by_email(session, login)
    return await local_account(session, Actor.username == login)


async def _account_by_email(session: AsyncSession, email: str) -> tuple[Actor, Account] | None:
    return await local_account(session, Account.email == email.strip())


# --- passwords --------------------------------------------------------------------------------


async def request_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    """Mail a reset token if `email` belongs to an account; silent otherwise."""
    found = await _account_by_email(session, email)
    if found is None:
        return
    actor, account = found
    token = await issue_token(session, actor.id, RESET)
    queue_password_reset(session, settings, account.email, actor.username, token)


async def reset_password(session: AsyncSession, token: str, password: str) -> Actor:
    check_new_password(password)
    row = await redeem_token(session, token, RESET)
    actor = await session.get(Actor, row.actor_id)
    if actor is None or actor.deleted_at is not None:
        raise FederationError("the account of this token no longer exists", status=410)
    await set_password(session, actor, password)
    return actor


async def set_password(session: AsyncSession, actor: Actor, password: str) -> None:
    """Set a new password and sign out every app and browser: a reset may follow a stolen
    password."""
    check_new_password(password)
    account = await session.get(Account, actor.id)
    if account is None:
        raise FederationError(f"{actor.username!r} has no account to sign in with", status=404)
    account.password_hash = await asyncio.to_thread(hash_password, password)
    await session.execute(delete(ApiToken).where(ApiToken.actor_id == actor.id))
    await session.execute(delete(BrowserSession).where(BrowserSession.actor_id == actor.id))
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.actor_id == actor.id,
            AccountToken.purpose == RESET,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
