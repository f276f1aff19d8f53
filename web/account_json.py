"""Request fields, JSON shapes and small HTML answers of the account, invite and sign-up
moderation routes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from actors.invites import invite_problem
from actors.models import Account, Actor, Invite
from federation.errors import FederationError
from web.files import media_type_essence
from web.request_input import json_body

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
# An ISO 639 code, perhaps with a region or script: what Mastodon accepts as `language`.
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


async def fields_of(request: Request, limit: int) -> dict[str, Any]:
    """The body as a dict, from JSON or an HTML/Mastodon-style form."""
    media_type = media_type_essence(request.headers.get("content-type", ""))
    if media_type in FORM_TYPES:
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    return await json_body(request, limit)


async def form_pairs(request: Request) -> list[tuple[str, str]] | None:
    """A form body's fields in order, as Mastodon apps send them (None for other bodies)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return None
    async with request.form(max_files=0, max_fields=100) as form:
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


async def form_or_json(
    request: Request, limit: int, fold: Callable[[list[tuple[str, str]]], dict[str, Any]]
) -> dict[str, Any]:
    """A Mastodon app's body: a form's pairs made a dict by `fold`, else JSON (at most
    `limit` bytes)."""
    pairs = await form_pairs(request)
    if pairs is None:
        return await json_body(request, limit)
    return fold(pairs)


def language_of(body: dict[str, Any]) -> str | None:
    """A status's `language`: an ISO 639 code (perhaps with a region), as Mastodon takes."""
    value = body.get("language")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not LANGUAGE.match(value):
        raise FederationError(
            f"language {str(value)!r:.20} is not an ISO 639 code such as 'en'", status=422
        )
    return value


def listed_fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A form's pairs as JSON carries them: the values of `name[]` fields in a list."""
    body: dict[str, Any] = {}
    for name, value in pairs:
        if name.endswith("[]"):
            body.setdefault(name[:-2], []).append(value)
        else:
            body[name] = value
    return body


def text(fields: dict[str, Any], name: str, *, required: bool = False, limit: int = 1000) -> str:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise FederationError(f"{name!r} is required", status=422)
        return ""
    if not isinstance(value, str):
        raise FederationError(f"{name!r} must be text", status=422)
    if len(value) > limit:
        raise FederationError(f"{name!r} is longer than {limit} characters", status=422)
    return value


def flag(fields: dict[str, Any], name: str) -> bool:
    value = fields.get(name)
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return value is True


def optional_int(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FederationError(f"{name!r} must be a whole number", status=422)


def iso(when: dt.datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def invite_url(base_url: str, code: str) -> str:
    return f"{base_url}/invite/{code}"


def invite_json(invite: Invite, base_url: str) -> dict[str, Any]:
    problem = invite_problem(invite)
    return {
        "code": invite.code,
        "url": invite_url(base_url, invite.code),
        "expires_at": iso(invite.expires_at),
        "max_uses": invite.max_uses,
        "uses": invite.uses,
        "revoked": invite.revoked_at is not None,
        "valid": problem is None,
        "created_at": iso(invite.created_at),
    }


def admin_account_json(actor: Actor, account: Account) -> dict[str, Any]:
    """A subset of Mastodon's Admin::Account entity."""
    return {
        "id": str(actor.id),
        "username": actor.username,
        "domain": None,
        "email": account.email,
        "created_at": iso(account.created_at),
        "role": account.role,
        "approved": account.approved,
        "confirmed": account.confirmed_at is not None,
        "invite_request": account.reason or None,
        "suspended": actor.suspended_at is not None,
        "silenced": actor.silenced_at is not None,
        "account": {
            "id": str(actor.id),
            "username": actor.username,
            "acct": actor.username,
            "url": actor.url,
        },
    }


def message_page(instance_name: str, title: str, message: str, status: int) -> HTMLResponse:
    """A one-paragraph page for links people open from a mail or a message."""
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} · "
        f"{escape(instance_name)}</title></head><body><h1>{escape(title)}</h1>"
        f"<p>{escape(message)}</p></body></html>"
    )
    return HTMLResponse(html, status_code=status)
