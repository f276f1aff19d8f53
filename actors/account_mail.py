"""Mails to account holders, queued as `OutgoingMail` rows in the caller's transaction.

Queuing in the same commit as the change that caused the mail means a crash loses neither:
the mail worker (`web.mail`) sends what is queued, retrying while the SMTP server is away.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import OutgoingMail
from actors.service import MIN_PASSWORD
from federation.db import utcnow
from federation.settings import Settings


def queue_mail(session: AsyncSession, to_address: str, subject: str, body: str) -> None:
    session.add(
        OutgoingMail(to_address=to_address, subject=subject, body=body, next_attempt_at=utcnow())
    )


def confirmation_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/auth/confirm?token={token}"


def queue_confirmation(
    session: AsyncSession, settings: Settings, to_address: str, username: str, token: str
) -> None:
    queue_mail(
        session,
        to_address,
        f"Confirm your address for {settings.instance_name}",
        f"Hello {username},\n\n"
        f"someone (hopefully you) registered the account @{username} at {settings.base_url}\n"
        "with this address. To confirm it, open this link within two days:\n\n"
        f"{confirmation_link(settings, token)}\n\n"
        "If it was not you, ignore this mail; the account cannot be used without the link.\n",
    )


def queue_password_reset(
    session: AsyncSession, settings: Settings, to_address: str, username: str, token: str
) -> None:
    queue_mail(
        session,
        to_address,
        f"Reset your password at {settings.instance_name}",
        f"Hello {username},\n\n"
        f"someone (hopefully you) asked to reset the password of @{username} at\n"
        f"{settings.base_url}. This reset token is valid for one hour:\n\n"
        f"{token}\n\n"
        f"Send it with your new password (at least {MIN_PASSWORD} characters) to\n"
        f"POST {settings.base_url}/api/v1/accounts/password_reset/confirm\n"
        '{"token": "...", "password": "..."}\n\n'
        "Setting a new password signs out every app that uses the account.\n"
        "If you did not ask for this, ignore this mail; your password stays as it is.\n",
    )


def queue_approved(
    session: AsyncSession, settings: Settings, to_address: str, username: str
) -> None:
    queue_mail(
        session,
        to_address,
        f"Welcome to {settings.instance_name}",
        f"Hello {username},\n\n"
        f"a moderator approved your account @{username} at {settings.base_url}.\n"
        "You can sign in now.\n",
    )


def queue_rejected(
    session: AsyncSession, settings: Settings, to_address: str, username: str
) -> None:
    queue_mail(
        session,
        to_address,
        f"Your request to join {settings.instance_name}",
        f"Hello,\n\nthe moderators of {settings.base_url} declined the request to join as\n"
        f"@{username}. The request and its data have been deleted.\n",
    )
