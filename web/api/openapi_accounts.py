"""The OpenAPI fragment of joining, signing in, invites and reviewing sign-ups: the routes of
`web.api.accounts`, `web.api.invites` and `web.api.account_admin`, the shapes of
`web.account_json`. docs/ACCOUNTS.md explains them."""

from __future__ import annotations

from web.api.openapi_admin import (
    ADMIN,
    CODE,
    FIELDS_POST,
    ID_PARAM,
    ROLE,
    STAFF,
    _decision,
)
from web.openapi_schema import (
    AUTH,
    BAD,
    BOOL,
    ID,
    INT,
    NULLABLE_DATE_TIME,
    NULLABLE_INT,
    SECURED,
    STR,
    URI,
    Fragment,
    Schema,
    _error,
    _fields_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
)

SCHEMAS: dict[str, Schema] = {
    "NewAccount": _obj(
        ["username", "email", "password", "agreement"],
        username={"type": "string", "maxLength": 30},
        email={"type": "string", "format": "email", "maxLength": 320},
        password={"type": "string", "description": "at least 8 characters"},
        agreement={"type": "boolean", "description": "must be true (forms: true, 1, yes, on)"},
        locale={"type": "string", "maxLength": 16},
        reason={
            "type": "string",
            "maxLength": 2000,
            "description": "why you would like to join; required in approval mode",
        },
        invite_code={"type": "string", "maxLength": 64},
    ),
    "RegisteredAccount": _obj(
        [
            "id",
            "username",
            "acct",
            "url",
            "email",
            "created_at",
            "state",
            "pending_confirmation",
            "pending_approval",
            "message",
        ],
        id=ID,
        username=STR,
        acct=STR,
        url=URI,
        email=STR,
        created_at=NULLABLE_DATE_TIME,
        state={"enum": ["active", "pending_confirmation", "pending_approval"]},
        pending_confirmation=BOOL,
        pending_approval=BOOL,
        message={"type": "string", "description": "what happens next"},
    ),
    "EmailAddress": _obj(["email"], email={"type": "string", "format": "email"}),
    "Accepted": _obj(["message"], message=STR),
    "SignIn": _obj(
        ["password"],
        username={"type": "string", "description": "the user name, or send email instead"},
        email={"type": "string", "format": "email"},
        password=STR,
        label={"type": "string", "maxLength": 255, "description": "names the token"},
    ),
    "Token": _obj(
        ["token", "token_type", "username"],
        token={"type": "string", "description": "send it as Authorization: Bearer <token>"},
        token_type={"const": "Bearer"},
        username=STR,
    ),
    "PasswordReset": _obj(
        ["token", "password"],
        token={"type": "string", "description": "the token from the mail"},
        password={"type": "string", "description": "the new password"},
    ),
    "PasswordChanged": _obj(["username", "message"], username=STR, message=STR),
    "NewInvite": _obj(
        [],
        expires_in={
            "type": "integer",
            "minimum": 1,
            "maximum": 366 * 86400,
            "description": "seconds; never if absent",
        },
        max_uses={"type": "integer", "minimum": 1, "description": "no limit if absent"},
    ),
    "Invite": _obj(
        ["code", "url", "expires_at", "max_uses", "uses", "revoked", "valid", "created_at"],
        code=STR,
        url={**URI, "description": "GET it: whether the invite works, and how to register"},
        expires_at=NULLABLE_DATE_TIME,
        max_uses=NULLABLE_INT,
        uses=INT,
        revoked=BOOL,
        valid=BOOL,
        created_at=NULLABLE_DATE_TIME,
    ),
    "AdminAccount": _obj(
        [
            "id",
            "username",
            "domain",
            "email",
            "created_at",
            "role",
            "approved",
            "confirmed",
            "invite_request",
            "suspended",
            "silenced",
            "account",
        ],
        id=ID,
        username=STR,
        domain={"type": "null", "description": "always local"},
        email=STR,
        created_at=NULLABLE_DATE_TIME,
        role=ROLE,
        approved=BOOL,
        confirmed=BOOL,
        invite_request={"type": ["string", "null"], "description": "the reason given"},
        suspended=BOOL,
        silenced=BOOL,
        account=_obj(["id", "username", "acct", "url"], id=ID, username=STR, acct=STR, url=URI),
    ),
    "NewRole": _obj(["role"], role=ROLE),
}

PATHS: dict[str, Schema] = {
    # --- joining and signing in ---
    "/api/v1/accounts": {
        "post": {
            "summary": "Register (Mastodon-style); the answer says what happens next",
            "requestBody": _fields_body("NewAccount"),
            "responses": {
                "200": _ok("the account and its state", _ref("RegisteredAccount")),
                **BAD,
                "403": _error("the registration mode does not admit without an invite"),
                "409": _error("the user name or address is taken"),
                "413": _error("the body is larger than the instance's limit"),
                "415": _error("neither JSON nor a form"),
                "422": _error(
                    "a missing field, a short password, agreement not true, or an unusable invite"
                ),
            },
        }
    },
    "/api/v1/accounts/confirmation": {
        "post": {
            "summary": "Mail a new confirmation link (always 202)",
            "requestBody": _fields_body("EmailAddress"),
            "responses": {
                "202": _ok("a link is sent if an unconfirmed account has it", _ref("Accepted")),
                **BAD,
                "422": _error("no email"),
            },
        }
    },
    "/api/v1/accounts/password_reset": {
        "post": {
            "summary": "Mail a password reset token valid one hour (always 202)",
            "requestBody": _fields_body("EmailAddress"),
            "responses": {
                "202": _ok("a token is sent if an account has the address", _ref("Accepted")),
                **BAD,
                "422": _error("no email"),
                "503": _error("the instance sends no mail; an admin resets passwords"),
            },
        }
    },
    "/api/v1/accounts/password_reset/confirm": {
        "post": {
            "summary": "Set a new password with the mailed token; every token is revoked",
            "requestBody": _fields_body("PasswordReset"),
            "responses": {
                "200": _ok("the password is changed", _ref("PasswordChanged")),
                "400": _error("an unknown token, or a malformed request"),
                "410": _error("the token was used or has expired"),
                "422": _error("a missing field or a short password"),
                "503": _error("the instance sends no mail; an admin resets passwords"),
            },
        }
    },
    "/api/v1/auth/token": {
        "post": {
            "summary": "A bearer token for a user name (or address) and password",
            "requestBody": _fields_body("SignIn"),
            "responses": {
                "200": _ok("the token", _ref("Token")),
                **BAD,
                "401": _error("a wrong name or password"),
                "403": _error("waiting for approval or confirmation, or suspended"),
                "422": _error("no username, email or password"),
            },
        }
    },
    "/api/v1/invites": {
        "get": {
            "summary": "Your own invites",
            "security": SECURED,
            "responses": {"200": _ok("the invites", _list("Invite")), **AUTH},
        },
        "post": {
            "summary": "Create an invite link (closed mode: moderators and admins only)",
            "security": SECURED,
            "requestBody": {**_fields_body("NewInvite"), "required": False},
            "responses": {
                "200": _ok("the invite", _ref("Invite")),
                **FIELDS_POST,
                "403": _error("registrations are closed and you are not staff"),
                "422": _error("expires_in or max_uses out of range"),
            },
        },
    },
    "/api/v1/invites/{code}": {
        "delete": {
            "summary": "Revoke an invite (its creator or a moderator)",
            "security": SECURED,
            "parameters": [CODE],
            "responses": {
                "200": _ok("the revoked invite", _ref("Invite")),
                **AUTH,
                "403": _error("neither its creator nor a moderator"),
                "404": _error("no such invite"),
            },
        }
    },
    # --- reviewing sign-ups ---
    "/api/v1/admin/accounts": {
        "get": {
            "summary": "Local accounts, for reviewing sign-ups (moderators)",
            "security": SECURED,
            "parameters": [
                _query(
                    "status",
                    "pending (waiting for approval), active (approved) or all",
                    schema={"enum": ["pending", "active", "all"], "default": "all"},
                ),
                _query("limit", "at most 200 (default 100)", schema=INT),
            ],
            "responses": {
                "200": _ok("the accounts", _list("AdminAccount")),
                **BAD,
                **STAFF,
                "422": _error("an unknown status"),
            },
        }
    },
    "/api/v1/admin/accounts/{id}/approve": _decision("Approve a request to join (moderators)"),
    "/api/v1/admin/accounts/{id}/reject": _decision(
        "Reject a request to join; its account is deleted (moderators)"
    ),
    "/api/v1/admin/accounts/{id}/role": {
        "put": {
            "summary": "Set a local person's role (admins)",
            "security": SECURED,
            "parameters": [ID_PARAM],
            "requestBody": _fields_body("NewRole"),
            "responses": {
                "200": _ok("the account", _ref("AdminAccount")),
                **FIELDS_POST,
                **ADMIN,
                "404": _error("no such local account"),
                "422": _error("an unknown role, or the only admin would lose the role"),
            },
        }
    },
}

FRAGMENT = Fragment(PATHS, SCHEMAS)
