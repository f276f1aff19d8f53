"""The OpenAPI description of what a Mastodon app registers: the app itself
(`web.mastodon.apps`) and its Web Push subscription (`web.mastodon.social.push`).

Part of `web.mastodon.openapi.FRAGMENT`. The OAuth endpoints themselves
(/oauth/authorize, /oauth/token, /oauth/revoke) follow RFC 6749 and RFC 7009 and are
described by /.well-known/oauth-authorization-server; docs/MASTODON.md explains them.
"""

from __future__ import annotations

from web.openapi_schema import (
    AUTH,
    BOOL,
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
    "vapid_key": {"type": "string", "description": "the instance's VAPID public key"},
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
    "WebPushSubscription": _obj(
        ["id", "endpoint", "standard", "alerts", "server_key", "policy"],
        id=STR,
        endpoint=STR,
        standard=BOOL,
        alerts={"type": "object", "additionalProperties": BOOL},
        server_key={"type": "string", "description": "the instance's VAPID public key"},
        policy={"type": "string", "enum": ["all", "followed", "follower", "none"]},
    ),
    "PushSubscriptionData": _obj(
        [],
        alerts={"type": "object", "additionalProperties": BOOL},
        policy={"type": "string", "enum": ["all", "followed", "follower", "none"]},
    ),
    "PushSubscriptionRequest": _obj(
        ["subscription"],
        subscription=_obj(
            ["endpoint", "keys"],
            endpoint=STR,
            keys=_obj(["p256dh", "auth"], p256dh=STR, auth=STR),
        ),
        data=_ref("PushSubscriptionData"),
    ),
}

_PUSH_ANSWERS: dict[str, Schema] = {
    "200": _ok("the token's subscription", _ref("WebPushSubscription")),
    **AUTH,
}

PATHS: dict[str, Schema] = {
    "/api/v1/push/subscription": {
        "post": {
            "summary": "Subscribe the token to Web Push, replacing its subscription",
            "security": SECURED,
            "requestBody": _fields_body("PushSubscriptionRequest"),
            "responses": {**_PUSH_ANSWERS, "422": _error("a bad endpoint, key or policy")},
        },
        "get": {
            "summary": "The token's Web Push subscription",
            "security": SECURED,
            "responses": {**_PUSH_ANSWERS, "404": _error("no subscription")},
        },
        "put": {
            "summary": "Change the alerts and policy of the token's subscription",
            "security": SECURED,
            "requestBody": _fields_body(_obj([], data=_ref("PushSubscriptionData"))),
            "responses": {**_PUSH_ANSWERS, "404": _error("no subscription")},
        },
        "delete": {
            "summary": "Remove the token's Web Push subscription",
            "security": SECURED,
            "responses": {"200": _ok("an empty object", {"type": "object"}), **AUTH},
        },
    },
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
