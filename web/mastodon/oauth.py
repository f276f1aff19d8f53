"""OAuth 2 for Mastodon apps: the authorize page, the token and revocation endpoints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from actors.models import Actor
from actors.oauth import KNOWN_SCOPES, OOB_REDIRECT_URI, scope_list
from actors.registration import sign_in
from federation.errors import FederationError
from web import form_guard
from web.account_json import fields_of
from web.http import client_ip
from web.instance import instance_of
from web.mastodon.oauth_server import (
    CLIENT_AUTH_METHODS,
    GRANT_TYPES,
    OAuthReply,
    OAuthServer,
    ParsedRequest,
    S256Challenge,
)
from web.scopes import PUBLIC, ScopedRoute
from web.templating import render

AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_VERBS = {"read": "see", "write": "change", "admin:read": "see, as staff,"}
_PLAIN_SCOPES = {
    "read": "see everything in your account",
    "write": "change everything in your account and publish as you",
    "follow": "see and change whom you follow, block and mute",
    "push": "receive push notifications for you",
    "profile": "see your profile",
    "admin:read": "see all moderation data your role can see",
    "admin:write": "take moderation actions your role allows",
}


@dataclass
class Consent:
    """What the authorize page shows about a request that authlib found valid."""

    app_name: str
    website: str | None
    scopes: list[str]


def plain_scope(scope: str) -> str:
    """A scope in plain words, for the person deciding."""
    if scope in _PLAIN_SCOPES:
        return _PLAIN_SCOPES[scope]
    parent, _, resource = scope.rpartition(":")
    verb = _VERBS.get(parent, "change, as staff," if parent == "admin:write" else parent)
    whose = "the instance's" if parent.startswith("admin:") else "your"
    return f"{verb} {whose} {resource.replace('_', ' ')}"


def _parsed(request: Request, data: Mapping[str, Any]) -> ParsedRequest:
    settings = instance_of(request).settings
    fields = {key: value for key, value in data.items() if isinstance(value, str)}
    return ParsedRequest(
        request.method, settings.base_url + request.url.path, fields, request.headers
    )


def _authorize_fields(data: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(data[name]) for name in AUTHORIZE_PARAMS if data.get(name)}


def _form_purpose(fields: dict[str, str]) -> str:
    # The hidden token is only good for this very request: app, redirect, scopes and state.
    return "oauth-authorize\n" + "\n".join(fields.get(name, "") for name in AUTHORIZE_PARAMS)


@dataclass
class Checked:
    """A request authlib found valid: its server and grant (kept for the decision)."""

    server: OAuthServer
    grant: Any
    consent: Consent


def _check(db: Session, parsed: ParsedRequest) -> Checked | OAuthReply:
    server = OAuthServer(db)
    try:
        grant = server.get_consent_grant(parsed)
    except OAuth2Error as error:
        return server.handle_error_response(parsed, error)  # type: ignore[no-any-return]
    app = grant.request.client.app
    return Checked(server, grant, Consent(app.name, app.website, scope_list(grant.request.scope)))


def _decide(checked: Checked, parsed: ParsedRequest, actor: Actor | None) -> OAuthReply:
    """A code for `actor`, or access_denied when nobody (`None`) authorized."""
    return checked.server.create_authorization_response(  # type: ignore[no-any-return]
        parsed, grant_user=actor, grant=checked.grant
    )


def _page(
    request: Request, fields: dict[str, str], consent: Consent, error: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "oauth_authorize.html",
        status=status,
        consent=consent,
        scopes=[(scope, plain_scope(scope)) for scope in consent.scopes],
        fields=fields,
        purpose=_form_purpose(fields),
        error=error,
    )


def _refusal_page(request: Request, reply: OAuthReply) -> Response:
    """An error authlib cannot send back to the app: the redirect URI is unknown or absent."""
    body = reply.body if isinstance(reply.body, dict) else {}
    message = body.get("error_description") or body.get("error") or "invalid request"
    return render(
        request,
        "oauth_result.html",
        status=400,
        title="This sign-in link does not work",
        message=message,
        code=None,
    )


def _answer(request: Request, reply: OAuthReply) -> Response:
    """Send the person back to the app, or show the outcome for out-of-band apps."""
    location = reply.location
    if location is None:
        return _refusal_page(request, reply)
    if not location.startswith(OOB_REDIRECT_URI):
        return reply.response()
    query = parse_qs(urlsplit(location).query)
    if "code" in query:
        return render(
            request,
            "oauth_result.html",
            title="Authorized",
            message="Copy this code and paste it into the app:",
            code=query["code"][0],
        )
    return render(
        request,
        "oauth_result.html",
        title="Not authorized",
        message="You did not authorize the app. You can close this page.",
        code=None,
    )


async def authorize_page(request: Request) -> Response:
    fields = _authorize_fields(request.query_params)
    parsed = _parsed(request, fields)
    async with instance_of(request).sessions() as session:
        checked = await session.run_sync(_check, parsed)
    if isinstance(checked, OAuthReply):
        return _answer(request, checked)
    return _page(request, fields, checked.consent)


async def authorize_decision(request: Request) -> Response:
    instance = instance_of(request)
    form = await request.form()
    fields = _authorize_fields(form)
    if not form_guard.is_valid(request, str(form.get(form_guard.FIELD, "")), _form_purpose(fields)):
        return render(
            request,
            "oauth_result.html",
            status=403,
            title="This form has expired",
            message="Go back to the app and start signing in again.",
            code=None,
        )
    parsed = _parsed(request, fields)
    async with instance.sessions() as session:
        checked = await session.run_sync(_check, parsed)
        if isinstance(checked, OAuthReply):
            return _answer(request, checked)
        actor = None
        if form.get("decision") == "authorize":
            try:
                login, password = str(form.get("login", "")), str(form.get("password", ""))
                actor = await sign_in(
                    session, instance.settings, login, password, client_ip=client_ip(request)
                )
            except FederationError as exc:
                page = _page(request, fields, checked.consent, exc.message, exc.status)
                page.headers.update(exc.headers)
                return page
        reply = await session.run_sync(lambda _db: _decide(checked, parsed, actor))
        await session.commit()
    return _answer(request, reply)


async def token(request: Request) -> Response:
    return await _endpoint(request, lambda server, parsed: server.create_token_response(parsed))


async def revoke(request: Request) -> Response:
    return await _endpoint(
        request, lambda server, parsed: server.create_endpoint_response("revocation", parsed)
    )


async def _endpoint(
    request: Request, respond: Callable[[OAuthServer, ParsedRequest], OAuthReply]
) -> Response:
    """The body's fields through one of authlib's endpoints, committed."""
    instance = instance_of(request)
    parsed = _parsed(request, await fields_of(request, instance.settings.max_body_bytes))
    async with instance.sessions() as session:
        reply = await session.run_sync(lambda db: respond(OAuthServer(db), parsed))
        await session.commit()
    return reply.response()


async def server_metadata(request: Request) -> Response:
    """RFC 8414 metadata, as Mastodon 4.3 serves it."""
    base = instance_of(request).settings.base_url
    return JSONResponse(
        {
            "issuer": f"{base}/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": list(KNOWN_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANT_TYPES),
            "code_challenge_methods_supported": list(S256Challenge.SUPPORTED_CODE_CHALLENGE_METHOD),
            "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        }
    )


routes: list[BaseRoute] = [
    ScopedRoute("/oauth/authorize", authorize_page, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/oauth/authorize", authorize_decision, methods=["POST"], scope=PUBLIC),
    ScopedRoute("/oauth/token", token, methods=["POST"], scope=PUBLIC),
    ScopedRoute("/oauth/revoke", revoke, methods=["POST"], scope=PUBLIC),
    Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
]
