"""Accounts in the browser: sign up, sign in and out, profile settings, API tokens.

The forms go through the same functions as the JSON API (`actors.registration.register`
and `sign_in`, the Mastodon profile change), so they apply the same rules, share the
sign-in limits and federate a profile change the same way. A refused form is shown again
with the reason, the right status and what was typed (never the password).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from actors.models import ENTITY_KINDS, Actor, ApiToken, OAuthApp
from actors.registration import Registration, register, sign_in
from actors.service import ConflictError
from federation.db import utcnow
from federation.errors import FederationError
from objects.html import plain_text
from outbox.profile import parse_profile_change, save_profile_change
from web.account_json import TRUE_WORDS, text
from web.browser import (
    checked_form,
    end_session,
    local_path_or_home,
    set_session_cookie,
    signed_in,
    start_session,
)
from web.http import client_ip
from web.instance import instance_of
from web.templating import render_page

# What each entity kind means, in the words the settings page uses (see docs/LICENSING.md).
KIND_WORDS = {
    "individual": "A person, making things for themselves or for others.",
    "nonprofit": "An association, foundation, school or other organisation not run for profit.",
    "cooperative": "A worker-owned cooperative. Some licences (the Peer Production Licence) "
    "let only cooperatives use a design commercially.",
    "company": "A business run for profit that is not worker-owned. Some licences do not let "
    "companies fork or sell a design.",
    "unknown": "You would rather not say. Licences that depend on who you are then count you "
    "out, so some designs cannot be forked.",
}


def _fields(form: FormData) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _signed_in_redirect(request: Request, token: str, next_path: str) -> Response:
    response = RedirectResponse(local_path_or_home(next_path), status_code=303)
    set_session_cookie(request, response, token)
    return response


# --- sign up ----------------------------------------------------------------------------------


async def sign_up_page(request: Request) -> Response:
    typed = {"invite": request.query_params.get("invite", "")}
    return await _sign_up_form(request, typed, next_path=request.query_params.get("next", ""))


async def _sign_up_form(
    request: Request, typed: dict[str, Any], *, next_path: str, error: str = "", status: int = 200
) -> Response:
    return await render_page(
        request,
        "sign_up.html",
        status,
        mode=instance_of(request).settings.registration_mode,
        typed=typed,
        next=local_path_or_home(next_path),
        error=error,
    )


async def sign_up(request: Request) -> Response:
    fields = _fields(await checked_form(request, "sign-up"))
    next_path = str(fields.get("next", ""))
    try:
        return await _register(request, fields, next_path)
    except FederationError as exc:
        typed = {key: value for key, value in fields.items() if key != "password"}
        return await _sign_up_form(
            request, typed, next_path=next_path, error=exc.message, status=exc.status
        )


async def _register(request: Request, fields: dict[str, Any], next_path: str) -> Response:
    instance = instance_of(request)
    form = Registration(
        username=text(fields, "username", required=True, limit=30),
        email=text(fields, "email", required=True, limit=320),
        password=text(fields, "password", required=True),
        agreement=str(fields.get("agreement", "")).lower() in TRUE_WORDS,
        reason=text(fields, "reason", limit=2000),
        invite_code=text(fields, "invite", limit=64),
    )
    try:
        async with instance.sessions() as session:
            actor, account = await register(session, instance.urls, instance.settings, form)
            # Signed in at once only when nothing is left to do before signing in.
            ready = account.approved and not instance.settings.mail_enabled
            token = await start_session(session, actor, _user_agent(request)) if ready else ""
            await session.commit()
    except IntegrityError as exc:
        raise ConflictError("that user name or address was taken just now; pick another") from exc
    instance.wake_mail()
    if token:
        return _signed_in_redirect(request, token, next_path)
    return await render_page(
        request,
        "sign_up.html",
        mode=instance.settings.registration_mode,
        done=_steps_left(instance.settings.mail_enabled, account.approved, account.email),
    )


def _steps_left(mail: bool, approved: bool, email: str) -> list[str]:
    steps = []
    if mail:
        steps.append(f"Follow the link we mailed to {email} to confirm your address.")
    if not approved:
        steps.append("Wait for a moderator to approve your request; you may get a mail.")
    return steps


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


# --- sign in and out --------------------------------------------------------------------------


async def sign_in_page(request: Request) -> Response:
    return await _sign_in_form(request, "", request.query_params.get("next", ""))


async def _sign_in_form(
    request: Request, login: str, next_path: str, error: str = "", status: int = 200
) -> Response:
    return await render_page(
        request,
        "sign_in.html",
        status,
        login=login,
        next=local_path_or_home(next_path),
        error=error,
    )


async def sign_in_submit(request: Request) -> Response:
    instance = instance_of(request)
    form = await checked_form(request, "sign-in")
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    next_path = str(form.get("next", ""))
    try:
        async with instance.sessions() as session:
            actor = await sign_in(
                session, instance.settings, login, password, client_ip=client_ip(request)
            )
            token = await start_session(session, actor, _user_agent(request))
            await session.commit()
    except FederationError as exc:
        page = await _sign_in_form(request, login, next_path, exc.message, exc.status)
        page.headers.update(exc.headers)
        return page
    return _signed_in_redirect(request, token, next_path)


async def sign_out(request: Request) -> Response:
    await checked_form(request, "sign-out")
    response = RedirectResponse("/", status_code=303)
    await end_session(request, response)
    return response


# --- settings ---------------------------------------------------------------------------------


async def _viewer_or_sign_in(request: Request) -> Actor | Response:
    """The signed-in person, or the way to the sign-in page (back here afterwards)."""
    viewer = await signed_in(request)
    if viewer is not None:
        return viewer
    if request.method == "GET":
        return RedirectResponse(f"/sign-in?next={request.url.path}", status_code=303)
    return await _sign_in_form(
        request, "", request.url.path, "sign in first: this page is for signed-in people", 401
    )


async def settings_page(request: Request) -> Response:
    viewer = await _viewer_or_sign_in(request)
    if isinstance(viewer, Response):
        return viewer
    typed = {
        "display_name": viewer.name,
        "summary": plain_text(viewer.summary),
        "entity_kind": viewer.entity_kind,
        "locked": viewer.manually_approves_followers,
    }
    saved = request.query_params.get("saved") == "1"
    return await _settings_form(request, typed, saved=saved)


async def _settings_form(
    request: Request,
    typed: dict[str, Any],
    *,
    saved: bool = False,
    error: str = "",
    status: int = 200,
) -> Response:
    kinds = [(kind, KIND_WORDS.get(kind, "")) for kind in ENTITY_KINDS]
    return await render_page(
        request, "settings.html", status, typed=typed, kinds=kinds, saved=saved, error=error
    )


async def settings_submit(request: Request) -> Response:
    form = _fields(await checked_form(request, "settings"))
    viewer = await _viewer_or_sign_in(request)
    if isinstance(viewer, Response):
        return viewer
    try:
        await _save_profile(request, viewer, form)
    except FederationError as exc:
        return await _settings_form(request, form, error=exc.message, status=exc.status)
    return RedirectResponse("/settings?saved=1", status_code=303)


async def _save_profile(request: Request, viewer: Actor, form: dict[str, Any]) -> None:
    """What PATCH update_credentials does, from the form's fields: the same checks,
    and the same Update of the person sent to their followers."""
    instance = instance_of(request)
    change = parse_profile_change(
        {
            "display_name": form.get("display_name", ""),
            "note": form.get("summary", ""),
            "entity_kind": form.get("entity_kind") or viewer.entity_kind,
            "locked": form.get("locked") == "on",
        }
    )
    async with instance.sessions() as session:
        await save_profile_change(session, instance.urls, viewer.id, change)
        await session.commit()
    instance.wake_delivery()


# --- API tokens and apps ----------------------------------------------------------------------


async def tokens_page(request: Request) -> Response:
    viewer = await _viewer_or_sign_in(request)
    if isinstance(viewer, Response):
        return viewer
    return await _tokens_list(request, viewer, revoked=request.query_params.get("revoked") == "1")


async def _tokens_list(
    request: Request, viewer: Actor, *, revoked: bool = False, error: str = "", status: int = 200
) -> Response:
    async with instance_of(request).sessions() as session:
        rows = (
            await session.execute(
                select(ApiToken, OAuthApp)
                .outerjoin(OAuthApp, OAuthApp.id == ApiToken.app_id)
                .where(ApiToken.actor_id == viewer.id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            )
        ).all()
    apps = [(row, app) for row, app in rows if app is not None]
    tokens = [row for row, app in rows if app is None]
    return await render_page(
        request,
        "settings_tokens.html",
        status,
        apps=apps,
        tokens=tokens,
        revoked=revoked,
        error=error,
    )


async def revoke_token(request: Request) -> Response:
    form = await checked_form(request, "revoke-token")
    viewer = await _viewer_or_sign_in(request)
    if isinstance(viewer, Response):
        return viewer
    token_id = str(form.get("token_id", ""))
    if not token_id.isdigit() or not await _revoke_own(request, viewer, int(token_id)):
        message = "there is no such token of yours to revoke; it may be revoked already"
        return await _tokens_list(request, viewer, error=message, status=404)
    return RedirectResponse("/settings/tokens?revoked=1", status_code=303)


async def _revoke_own(request: Request, viewer: Actor, token_id: int) -> bool:
    """Revoke one of the viewer's live tokens; False when they have none with that id."""
    async with instance_of(request).sessions() as session:
        result = await session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                ApiToken.actor_id == viewer.id,
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


routes: list[BaseRoute] = [
    Route("/sign-up", sign_up_page, methods=["GET"]),
    Route("/sign-up", sign_up, methods=["POST"]),
    Route("/sign-in", sign_in_page, methods=["GET"]),
    Route("/sign-in", sign_in_submit, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/settings", settings_page, methods=["GET"]),
    Route("/settings", settings_submit, methods=["POST"]),
    Route("/settings/tokens", tokens_page, methods=["GET"]),
    Route("/settings/tokens/revoke", revoke_token, methods=["POST"]),
]
