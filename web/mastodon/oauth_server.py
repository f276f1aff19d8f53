"""Authlib's OAuth 2 server over our async database.

Authlib is synchronous. Each call runs inside `AsyncSession.run_sync`, so the server and
its grants see the synchronous `Session` behind one async session and its transaction:
build an `OAuthServer` per request with that session, then commit from the async side.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    JsonRequest,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor, ApiToken, OAuthApp, OAuthCode
from actors.oauth import (
    CODE_LIFETIME_SECONDS,
    DEFAULT_SCOPE,
    KNOWN_SCOPES,
    check_scopes,
    scope_list,
    scopes_within,
)
from actors.service import secret_hash
from federation.db import utcnow
from federation.errors import FederationError, ValidationError
from web.bearer import INVALID_TOKEN, bearer_sign_in

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
GRANT_TYPES = ("authorization_code", "client_credentials")


# --- requests and replies ---------------------------------------------------------------------


class _Payload(OAuth2Payload):
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return defaultdict(list, {key: [value] for key, value in self._data.items()})


class ParsedRequest(OAuth2Request):
    """An HTTP request already read by the async route: authlib must not await anything."""

    def __init__(
        self, method: str, uri: str, data: dict[str, str], headers: Mapping[str, str]
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Payload(data)
        self._fields = data

    @property
    def args(self) -> dict[str, str]:
        return self._fields

    @property
    def form(self) -> dict[str, str]:
        return self._fields


@dataclass
class OAuthReply:
    """What authlib answers, turned into a Starlette response on the async side."""

    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return dict(self.headers).get("Location")

    def response(self) -> Response:
        headers = dict(self.headers)
        headers.pop("Content-Type", None)
        if self.status in (301, 302, 303, 307):
            return Response(status_code=self.status, headers=headers)
        return JSONResponse(self.body or {}, status_code=self.status, headers=headers)


# --- rows as authlib sees them ----------------------------------------------------------------


class AppClient(ClientMixin):
    def __init__(self, app: OAuthApp) -> None:
        self.app = app

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str:
        return self.app.redirect_uris.splitlines()[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        # Mastodon: the requested scopes default to "read" and must be among the app's.
        wanted = " ".join(scope_list(scope or "")) or DEFAULT_SCOPE
        if not scopes_within(self.app.scopes, wanted):
            raise InvalidScopeError("The requested scope is not among the app's scopes.")
        return wanted

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris.splitlines()

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(secret_hash(client_secret), self.app.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class IssuedCode(AuthorizationCodeMixin):
    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scopes


class IssuedToken(TokenMixin):
    def __init__(self, row: ApiToken) -> None:
        self.row = row

    def check_client(self, client: AppClient) -> bool:
        return self.row.app_id == client.app.id

    def get_scope(self) -> str:
        return self.row.scopes

    def get_expires_in(self) -> int:
        return 0

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def is_expired(self) -> bool:
        return False


# --- grants and endpoints ---------------------------------------------------------------------


class S256Challenge(CodeChallenge):
    """PKCE as Mastodon does it: S256 only, never the plain method."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: OAuthServer

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        challenge = data.get("code_challenge") or None
        self.server.db.add(
            OAuthCode(
                code_hash=secret_hash(code),
                app_id=request.client.app.id,
                actor_id=request.user.id,
                # Empty when the app sent none: then the token request need not send it.
                redirect_uri=data.get("redirect_uri") or "",
                scopes=request.scope,
                code_challenge=challenge,
                code_challenge_method=(data.get("code_challenge_method") or "S256")
                if challenge
                else None,
                expires_at=utcnow() + dt.timedelta(seconds=CODE_LIFETIME_SECONDS),
            )
        )
        self.server.db.flush()

    def query_authorization_code(self, code: str, client: AppClient) -> IssuedCode | None:
        row = self.server.db.scalar(
            select(OAuthCode).where(
                OAuthCode.code_hash == secret_hash(code), OAuthCode.app_id == client.app.id
            )
        )
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            return None
        return IssuedCode(row)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        # Kept, marked used: a code works once.
        authorization_code.row.used_at = utcnow()
        self.server.db.flush()

    def authenticate_user(self, authorization_code: IssuedCode) -> Actor | None:
        actor = self.server.db.get(Actor, authorization_code.row.actor_id)
        if actor is None or actor.deleted_at is not None or actor.suspended_at is not None:
            return None
        return actor


class AppCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Authlib would grant whatever was asked; like a code, stay within the app's scopes.
        scope = self.request.client.get_allowed_scope(self.request.payload.scope)
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: OAuthServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        row = self.server.db.scalar(
            select(ApiToken).where(ApiToken.token_hash == secret_hash(token_string))
        )
        return IssuedToken(row) if row is not None else None

    def revoke_token(self, token: IssuedToken, request: OAuth2Request) -> None:
        token.row.revoked_at = token.row.revoked_at or utcnow()
        self.server.db.flush()


class OAuthServer(AuthorizationServer):
    """One per request, bound to the synchronous session of that request's transaction."""

    def __init__(self, db: Session) -> None:
        super().__init__(scopes_supported=list(KNOWN_SCOPES))
        self.db = db
        self.register_token_generator("default", _bearer_token)
        self.register_grant(CodeGrant, [S256Challenge(required=False)])
        self.register_grant(AppCredentialsGrant)
        self.register_endpoint(TokenRevocation)

    def query_client(self, client_id: str) -> AppClient | None:
        app = self.db.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))
        return AppClient(app) if app is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        app: OAuthApp = request.client.app
        self.db.add(
            ApiToken(
                actor_id=request.user.id if request.user is not None else None,
                app_id=app.id,
                name=app.name[:255],
                token_hash=secret_hash(token["access_token"]),
                scopes=token["scope"],
            )
        )
        self.db.flush()

    def validate_requested_scope(self, scope: str | None) -> None:
        try:
            check_scopes(scope or "")
        except ValidationError as exc:
            raise InvalidScopeError(exc.message) from exc

    def create_oauth2_request(self, request: ParsedRequest) -> ParsedRequest:
        return request

    def create_json_request(self, request: ParsedRequest) -> JsonRequest:
        raise NotImplementedError("no JSON endpoints")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> OAuthReply:
        return OAuthReply(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Nothing listens to authlib's signals here."""


def _bearer_token(
    grant_type: str,
    client: AppClient,
    user: Actor | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    # Mastodon's shape: no expiry and no refresh token.
    return {
        "access_token": secrets.token_urlsafe(32),
        "token_type": "Bearer",
        "scope": scope or DEFAULT_SCOPE,
        "created_at": int(time.time()),
    }


# --- scopes on API routes ---------------------------------------------------------------------


async def request_token(request: Request) -> ApiToken:
    """The live token row of the request's bearer token, within the route's declared scope
    (401 without one). Tokens made by the CLI or POST /api/v1/auth/token belong to no app."""
    sign_in = await bearer_sign_in(request)
    if sign_in is None:
        raise FederationError(INVALID_TOKEN, status=401)
    return sign_in.token
