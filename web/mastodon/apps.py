"""Mastodon's app registration: POST /api/v1/apps and GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.models import OAuthApp
from actors.oauth import register_app, scope_list
from federation.errors import FederationError, ValidationError
from web.account_json import FORM_TYPES, fields_of
from web.bearer import INVALID_TOKEN
from web.files import media_type_essence
from web.instance import instance_of
from web.mastodon.oauth_server import request_token
from web.scopes import ANY_TOKEN, PUBLIC, ScopedRoute


def app_entity(app: OAuthApp, vapid_key: str, client_secret: str | None = None) -> dict[str, Any]:
    """Mastodon's Application; the credentials only in the answer to the registration."""
    redirect_uris = app.redirect_uris.splitlines()
    entity: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": scope_list(app.scopes),
        "redirect_uri": "\n".join(redirect_uris),
        "redirect_uris": redirect_uris,
        "vapid_key": vapid_key,  # the instance's Web Push key (web.mastodon.social.push)
    }
    if client_secret is not None:
        entity |= {
            "client_id": app.client_id,
            "client_secret": client_secret,
            "client_secret_expires_at": 0,
        }
    return entity


async def _registration_fields(request: Request) -> tuple[dict[str, Any], list[str]]:
    """The body's fields and its redirect URIs, which may come as a list or one per line."""
    fields = await fields_of(request, instance_of(request).settings.max_body_bytes)
    if media_type_essence(request.headers.get("content-type", "")) in FORM_TYPES:
        form = await request.form()  # the form fields_of read (Starlette keeps it)
        raw = [v for k in ("redirect_uris", "redirect_uris[]") for v in form.getlist(k)]
    else:
        value = fields.get("redirect_uris")
        raw = value if isinstance(value, list) else [value] if value is not None else []
    if not all(isinstance(uri, str) for uri in raw):
        raise ValidationError("redirect_uris must be text or a list of text")
    return fields, [uri for text in raw for uri in str(text).split()]


def _text(fields: dict[str, Any], name: str, limit: int) -> str:
    value = fields.get(name) or ""
    if isinstance(value, list) and name == "scopes":
        value = " ".join(str(scope) for scope in value)
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text")
    if len(value) > limit:
        raise ValidationError(f"{name} is longer than {limit} characters")
    return value.strip()


def _website(fields: dict[str, Any]) -> str | None:
    website = _text(fields, "website", 2048)
    if website and (urlsplit(website).scheme not in ("http", "https") or "//" not in website):
        raise ValidationError("website must be an absolute http(s) URL")
    return website or None


async def create_app(request: Request) -> Response:
    try:
        fields, redirect_uris = await _registration_fields(request)
        name = _text(fields, "client_name", 255)
        scopes = _text(fields, "scopes", 1000)
        website = _website(fields)
        async with instance_of(request).sessions() as session:
            app, secret = await register_app(
                session, name=name, redirect_uris=redirect_uris, scopes=scopes, website=website
            )
            await session.commit()
    except ValidationError as exc:
        # Mastodon answers bad registrations with 422.
        raise FederationError(exc.message, status=422) from exc
    return JSONResponse(app_entity(app, instance_of(request).vapid_public_key, secret))


async def verify_app(request: Request) -> Response:
    token = await request_token(request)
    if token.app_id is None:
        raise FederationError(
            "this token belongs to no app: it was made by the CLI or by signing in", status=401
        )
    async with instance_of(request).sessions() as session:
        app = await session.get(OAuthApp, token.app_id)
    if app is None:
        raise FederationError(INVALID_TOKEN, status=401)
    return JSONResponse(app_entity(app, instance_of(request).vapid_public_key))


routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/apps", create_app, methods=["POST"], scope=PUBLIC),
    ScopedRoute("/api/v1/apps/verify_credentials", verify_app, methods=["GET"], scope=ANY_TOKEN),
]
