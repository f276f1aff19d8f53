"""Browsers: who is signed in (a session cookie), and CSRF-checked forms.

A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure when the instance
is served over https); the database keeps only its SHA-256. Every form carries a
`web.form_guard` field bound to a cookie and to what the form is for, checked before the
POST changes anything.
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from actors.browser_models import BrowserSession
from actors.models import Actor
from actors.moderation import visible
from actors.service import secret_hash
from federation.db import utcnow
from federation.errors import FederationError
from web import form_guard
from web.instance import instance_of

SESSION_COOKIE = form_guard.SESSION_COOKIE
SESSION_LIFETIME = dt.timedelta(days=30)
# last_seen_at is written at most this often, so that reading pages writes almost nothing.
SEEN_EVERY = dt.timedelta(minutes=5)
FORM_EXPIRED = (
    "this form has expired or did not come from this site; reload the page and send it again"
)


async def signed_in(request: Request) -> Actor | None:
    """The person this browser is signed in as (looked up once per request)."""
    if not hasattr(request.state, "browser_actor"):
        request.state.browser_actor = await _session_actor(request)
    actor: Actor | None = request.state.browser_actor
    return actor


async def _session_actor(request: Request) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    now = utcnow()
    async with instance_of(request).sessions() as session:
        found = (
            await session.execute(
                select(BrowserSession, Actor)
                .join(Actor, Actor.id == BrowserSession.actor_id)
                .where(BrowserSession.token_hash == secret_hash(token), visible())
            )
        ).first()
        if found is None or found[0].expires_at <= now:
            return None
        row, actor = found
        if now - row.last_seen_at > SEEN_EVERY:
            await session.execute(
                update(BrowserSession).where(BrowserSession.id == row.id).values(last_seen_at=now)
            )
            await session.commit()
    return actor


async def start_session(session: AsyncSession, actor: Actor, user_agent: str = "") -> str:
    """A new session for `actor` (the caller commits); the token for `set_session_cookie`."""
    token = secrets.token_urlsafe(32)
    session.add(
        BrowserSession(
            actor_id=actor.id,
            token_hash=secret_hash(token),
            user_agent=user_agent[:300],
            expires_at=utcnow() + SESSION_LIFETIME,
        )
    )
    return token


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=instance_of(request).settings.scheme == "https",
    )


async def end_session(request: Request, response: Response) -> None:
    """Sign this browser out: its session row goes, and so does the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with instance_of(request).sessions() as session:
            await session.execute(
                delete(BrowserSession).where(BrowserSession.token_hash == secret_hash(token))
            )
            await session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


async def checked_form(request: Request, purpose: str) -> FormData:
    """The posted form, if its CSRF field is valid for `purpose`; else a 403 saying what to do."""
    form = await request.form()
    if not form_guard.is_valid(request, str(form.get(form_guard.FIELD, "")), purpose):
        raise FederationError(FORM_EXPIRED, status=403)
    return form


def is_local_path(value: str, limit: int = 2000) -> bool:
    """A path on this site, safe to redirect to: never another site ("//host", "/\\host"),
    a scheme, or control characters."""
    return (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) <= limit
        and value.isprintable()
    )


def local_path_or_home(value: str) -> str:
    return value if is_local_path(value) else "/"


def sign_in_redirect(next_path: str) -> RedirectResponse:
    """To the sign-in page, and back to `next_path` (a local path) after."""
    return RedirectResponse(f"/sign-in?{urlencode({'next': next_path})}", status_code=303)
