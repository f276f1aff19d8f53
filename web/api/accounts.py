"""Joining and signing in: Mastodon-style registration, address confirmation, bearer tokens
for a user name and password, and password reset by mail.

Every request is handled in one session that commits only when all checks passed, so a
refused request changes nothing; mail is queued in that same commit and the mail worker is
woken afterwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from actors.models import Account, Actor
from actors.registration import (
    Registration,
    confirm_address,
    register,
    request_password_reset,
    resend_confirmation,
    reset_password,
    sign_in,
)
from actors.service import ConflictError, create_token
from federation.errors import FederationError
from web.account_json import fields_of, flag, iso, message_page, text
from web.http import client_ip
from web.instance import Instance, instance_of
from web.scopes import PUBLIC, ScopedRoute

NO_MAIL = (
    "this instance sends no mail, so passwords cannot be reset by mail; ask an admin, who "
    "sets a new one with `ourdesign user password NAME`"
)


async def _fields(request: Request) -> tuple[Instance, dict[str, Any]]:
    instance = instance_of(request)
    return instance, await fields_of(request, instance.settings.max_body_bytes)


async def create_account(request: Request) -> Response:
    instance, fields = await _fields(request)
    form = Registration(
        username=text(fields, "username", required=True, limit=30),
        email=text(fields, "email", required=True, limit=320),
        password=text(fields, "password", required=True),
        agreement=flag(fields, "agreement"),
        locale=text(fields, "locale", limit=16),
        reason=text(fields, "reason", limit=2000),
        invite_code=text(fields, "invite_code", limit=64),
    )
    try:
        async with instance.sessions() as session:
            actor, account = await register(session, instance.urls, instance.settings, form)
            await session.commit()
    except IntegrityError as exc:
        raise ConflictError("that user name or address was taken just now; pick another") from exc
    instance.wake_mail()
    # register() queues a confirmation link exactly when mail is set up.
    pending_confirmation = instance.settings.mail_enabled
    return JSONResponse(_registered_json(actor, account, pending_confirmation))


def _registered_json(actor: Actor, account: Account, unconfirmed: bool) -> dict[str, Any]:
    steps = []
    if unconfirmed:
        steps.append(f"follow the link mailed to {account.email} to confirm your address")
    if not account.approved:
        steps.append("wait for a moderator to approve your request (you may get a mail)")
    if unconfirmed:
        state = "pending_confirmation"
    elif not account.approved:
        state = "pending_approval"
    else:
        state = "active"
    message = (
        "Before you can sign in, " + "; then ".join(steps) + "."
        if steps
        else "Your account is ready: sign in with POST /api/v1/auth/token."
    )
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": actor.username,
        "url": actor.url,
        "email": account.email,
        "created_at": iso(account.created_at),
        "state": state,
        "pending_confirmation": unconfirmed,
        "pending_approval": not account.approved,
        "message": message,
    }


async def confirm_page(request: Request) -> Response:
    instance = instance_of(request)
    token = request.query_params.get("token", "")
    name = instance.settings.instance_name
    try:
        if not token:
            raise FederationError("this link has no token; copy the whole link from the mail")
        async with instance.sessions() as session:
            actor, account = await confirm_address(session, token)
            await session.commit()
    except FederationError as exc:
        return message_page(
            name, "This link did not work", f"{exc.message}. {_resend_hint()}", exc.status
        )
    after = (
        "You can sign in now."
        if account.approved
        else "A moderator still has to approve your request; you can sign in after that."
    )
    return message_page(name, "Address confirmed", f"Thank you, @{actor.username}. {after}", 200)


def _resend_hint() -> str:
    return 'For a new link, POST /api/v1/accounts/confirmation with {"email": "your address"}.'


async def resend(request: Request) -> Response:
    instance, fields = await _fields(request)
    email = text(fields, "email", required=True, limit=320)
    async with instance.sessions() as session:
        await resend_confirmation(session, instance.settings, email)
        await session.commit()
    instance.wake_mail()
    return _accepted("if an unconfirmed account has this address, a new link is on its way")


def _accepted(message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=202)


async def issue_token(request: Request) -> Response:
    instance, fields = await _fields(request)
    login = text(fields, "username", limit=320) or text(fields, "email", limit=320)
    if not login:
        raise FederationError("send 'username' (or 'email') and 'password'", status=422)
    password = text(fields, "password", required=True)
    label = text(fields, "label", limit=255) or "signed in"
    async with instance.sessions() as session:
        actor = await sign_in(
            session, instance.settings, login, password, client_ip=client_ip(request)
        )
        token = await create_token(session, actor, label)
        await session.commit()
    return JSONResponse({"token": token, "token_type": "Bearer", "username": actor.username})


def _require_mail(instance: Instance) -> None:
    if not instance.settings.mail_enabled:
        raise FederationError(NO_MAIL, status=503)


async def password_reset(request: Request) -> Response:
    instance = instance_of(request)
    _require_mail(instance)
    _, fields = await _fields(request)
    email = text(fields, "email", required=True, limit=320)
    async with instance.sessions() as session:
        await request_password_reset(session, instance.settings, email)
        await session.commit()
    instance.wake_mail()
    return _accepted("if an account has this address, a reset token valid for one hour is mailed")


async def password_reset_confirm(request: Request) -> Response:
    instance = instance_of(request)
    _require_mail(instance)
    _, fields = await _fields(request)
    token = text(fields, "token", required=True)
    password = text(fields, "password", required=True)
    async with instance.sessions() as session:
        actor = await reset_password(session, token, password)
        await session.commit()
    return JSONResponse(
        {
            "username": actor.username,
            "message": "your password is changed and every app was signed out; sign in again",
        }
    )


routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/accounts", create_account, methods=["POST"], scope=PUBLIC),
    ScopedRoute("/api/v1/accounts/confirmation", resend, methods=["POST"], scope=PUBLIC),
    ScopedRoute("/api/v1/accounts/password_reset", password_reset, methods=["POST"], scope=PUBLIC),
    ScopedRoute(
        "/api/v1/accounts/password_reset/confirm",
        password_reset_confirm,
        methods=["POST"],
        scope=PUBLIC,
    ),
    ScopedRoute("/api/v1/auth/token", issue_token, methods=["POST"], scope=PUBLIC),
    Route("/auth/confirm", confirm_page, methods=["GET"]),
]
