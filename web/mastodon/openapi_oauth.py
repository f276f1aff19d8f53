"""The OpenAPI description of Mastodon's app registration (`web.mastodon.apps`).

Part of `web.mastodon.openapi.FRAGMENT`. The OAuth endpoints themselves
(/oauth/authorize, /oauth/token, /oauth/revoke) follow RFC 6749 and RFC 7009 and are
described by /.well-known/oauth-authorization-server; docs/MASTODON.md explains them.
"""

from __future__ import annotations

from web.openapi_schema import (
    AUTH,
    NULLABLE_STR,
    SECURED,
    STR,
    STRINGS,
    Fragment,
    Schema,
    _error,
    _fields_body,
    _obj,
    _ok,
    _ref,
)

_APP_FIELDS: dict[str, Schema] = {
    "id": STR,
    "name": STR,
    "website": NULLABLE_STR,
    "scopes": STRINGS,
    "redirect_uri": {"type": "string", "description": "the redirect URIs, one per line"},
    "redirect_uris": STRINGS,
    "vapid_key": {"type": "string", "description": "always empty: no Web Push"},
}

SCHEMAS: dict[str, Schema] = {
    "Application": _obj(["id", "name", "scopes", "redirect_uris"], **_APP_FIELDS),
    "CredentialApplication": _obj(
        ["id", "name", "scopes", "redirect_uris", "client_id", "client_secret"],
        **_APP_FIELDS,
        client_id=STR,
        client_secret={"type": "string", "description": "shown once; only its hash is kept"},
        client_secret_expires_at={"type": "integer", "description": "0: never"},
    ),
    "AppRegistration": _obj(
        ["client_name", "redirect_uris"],
        client_name=STR,
        redirect_uris={
            "oneOf": [STR, STRINGS],
            "description": "absolute http(s) URIs or urn:ietf:wg:oauth:2.0:oob; "
            "a string may hold several, one per line",
        },
        scopes={"type": "string", "description": "space-separated; default read"},
        website=STR,
    ),
}

PATHS: dict[str, Schema] = {
    "/api/v1/apps": {
        "post": {
            "summary": "Register an OAuth app (Mastodon's POST /api/v1/apps)",
            "requestBody": _fields_body("AppRegistration", description=None),
            "responses": {
                "200": _ok("the app with its credentials", _ref("CredentialApplication")),
                "422": _error("a redirect URI, scope or name is not acceptable"),
            },
        }
    },
    "/api/v1/apps/verify_credentials": {
        "get": {
            "summary": "The app that the bearer token was issued to",
            "security": SECURED,
            "responses": {"200": _ok("the app, without its secret", _ref("Application")), **AUTH},
        }
    },
}

FRAGMENT = Fragment(PATHS, SCHEMAS)
