"""The OpenAPI description of the account, moderation and instance routes.

Merged into `web.api.openapi` (`openapi_document`); the shapes are those of `web.account_json`,
`web.blocklists`, `web.api.report_shapes` and `web.mastodon.instance`, the handlers those of
`web.api.accounts`, `account_invites`, `account_admin`, `moderation`, `reports` and
`instance_api`. docs/ACCOUNTS.md, docs/MODERATION.md and docs/COOPERATIVE.md explain them.
"""

from __future__ import annotations

from web.api.openapi import (
    AUTH,
    BAD,
    BOOL,
    INT,
    JSON_POST,
    LINK,
    NULLABLE_STR,
    SECURED,
    STR,
    STRINGS,
    URI,
    Schema,
    _error,
    _fields_body,
    _json_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
    _slashed,
)

DATE_TIME: Schema = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_INT: Schema = {"type": ["integer", "null"]}
ID: Schema = {"type": "string", "description": "a whole number, as a string (as on Mastodon)"}
ROLE: Schema = {"enum": ["member", "moderator", "admin"]}
SEVERITY: Schema = {"enum": ["silence", "suspend", "noop"]}
CATEGORY: Schema = {"enum": ["spam", "legal", "violation", "other"]}

SCHEMAS: dict[str, Schema] = {
    # --- accounts (web.account_json, web.api.accounts) ---
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
    # --- domain blocks (web.blocklists, web.api.moderation) ---
    "DomainBlock": _obj(
        [
            "id",
            "domain",
            "digest",
            "created_at",
            "severity",
            "reject_media",
            "reject_reports",
            "private_comment",
            "public_comment",
            "obfuscate",
        ],
        id=ID,
        domain=STR,
        digest={"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 hex"},
        created_at=NULLABLE_DATE_TIME,
        severity=SEVERITY,
        reject_media=BOOL,
        reject_reports=BOOL,
        private_comment=NULLABLE_STR,
        public_comment=NULLABLE_STR,
        obfuscate=BOOL,
    ),
    "DomainBlockChange": _obj(
        [],
        domain={"type": "string", "description": "required to create; ignored on change"},
        severity={**SEVERITY, "default": "suspend"},
        reject_media=BOOL,
        reject_reports=BOOL,
        private_comment=STR,
        public_comment=STR,
        obfuscate=BOOL,
    ),
    "PublicDomainBlock": _obj(
        ["domain", "digest", "severity", "comment"],
        domain={"type": "string", "description": "partly starred when obfuscated"},
        digest={"type": "string", "pattern": "^[0-9a-f]{64}$"},
        severity={"enum": ["silence", "suspend"]},
        comment={"type": ["string", "null"], "description": "the public comment"},
    ),
    "ImportSummary": _obj(
        ["created", "updated", "unchanged"], created=INT, updated=INT, unchanged=INT
    ),
    # --- reports and the audit log (web.api.report_shapes, web.api.reports) ---
    "NewReport": _obj(
        ["account_id"],
        account_id={
            "type": "string",
            "description": "our account id, an actor URI, user@domain or a local name",
        },
        status_ids={
            "type": "array",
            "items": {"type": ["string", "integer"]},
            "description": "ids or URIs of that account's notes, or of its design versions",
        },
        comment={"type": "string", "maxLength": 1000},
        category={**CATEGORY, "default": "other"},
        forward={
            "type": "boolean",
            "default": False,
            "description": "also send a Flag to a remote account's server",
        },
    ),
    "ReportAccount": _obj(
        ["id", "username", "acct", "url", "uri"],
        id=ID,
        username=STR,
        acct=STR,
        url=URI,
        uri=URI,
    ),
    "Report": _obj(
        [
            "id",
            "action_taken",
            "category",
            "comment",
            "forwarded",
            "created_at",
            "status_ids",
            "target_account",
        ],
        id=ID,
        action_taken={"type": "boolean", "description": "resolved"},
        category=CATEGORY,
        comment=STR,
        forwarded=BOOL,
        created_at=NULLABLE_DATE_TIME,
        status_ids={**STRINGS, "description": "the reported object URIs"},
        target_account=_ref("ReportAccount"),
    ),
    "ModeratedAccount": {
        "description": "a subset of Mastodon's Admin::Account",
        **_obj(
            ["id", "username", "domain", "created_at", "role", "suspended", "silenced", "account"],
            id=ID,
            username=STR,
            domain={"type": ["string", "null"], "description": "null: local"},
            created_at=NULLABLE_DATE_TIME,
            role={"enum": ["member", "moderator", "admin", None]},
            suspended=BOOL,
            silenced=BOOL,
            account=_ref("ReportAccount"),
        ),
    },
    "AdminReport": _obj(
        [
            "id",
            "action_taken",
            "action",
            "action_taken_at",
            "category",
            "comment",
            "forwarded",
            "created_at",
            "updated_at",
            "account",
            "origin_domain",
            "uri",
            "target_account",
            "assigned_account",
            "statuses",
        ],
        id=ID,
        action_taken={"type": "boolean", "description": "resolved"},
        action={
            "type": ["string", "null"],
            "description": "how it was resolved: none, silence or suspend",
        },
        action_taken_at=NULLABLE_DATE_TIME,
        category=CATEGORY,
        comment=STR,
        forwarded=BOOL,
        created_at=NULLABLE_DATE_TIME,
        updated_at=NULLABLE_DATE_TIME,
        account={
            "oneOf": [_ref("ModeratedAccount"), {"type": "null"}],
            "description": "the local reporter; null for another server's report",
        },
        origin_domain={"type": ["string", "null"], "description": "another server's report"},
        uri={"type": ["string", "null"], "description": "the Flag's id, for another server's"},
        target_account={"oneOf": [_ref("ModeratedAccount"), {"type": "null"}]},
        assigned_account={"oneOf": [_ref("ModeratedAccount"), {"type": "null"}]},
        statuses={"type": "array", "items": STR, "description": "the reported object URIs"},
    ),
    "AccountAction": _obj(
        ["type"],
        type={"enum": ["none", "silence", "suspend"]},
        report_id={
            "type": ["string", "integer"],
            "description": "resolve this report with the action",
        },
        text={"type": "string", "description": "why"},
    ),
    "AuditEntry": _obj(
        ["id", "action", "target_type", "target", "moderator", "detail", "created_at"],
        id=ID,
        action={"type": "string", "description": "for example domain_block.create"},
        target_type=STR,
        target=STR,
        moderator={
            "oneOf": [_ref("ReportAccount"), {"type": "null"}],
            "description": "null: taken on the server's command line",
        },
        detail={"type": "object"},
        created_at=NULLABLE_DATE_TIME,
    ),
    "Empty": {"type": "object", "maxProperties": 0},
    # --- the instance and its cooperative (web.mastodon.instance) ---
    "Rule": _obj(["id", "text", "hint"], id=STR, text=STR, hint=STR),
    "InstanceV1": {
        "description": "Mastodon's V1::Instance (the parts that apply here)",
        **_obj(
            [
                "uri",
                "title",
                "short_description",
                "description",
                "email",
                "version",
                "urls",
                "stats",
                "thumbnail",
                "languages",
                "registrations",
                "approval_required",
                "invites_enabled",
                "configuration",
                "contact_account",
                "rules",
            ],
            uri={"type": "string", "description": "the domain"},
            title=STR,
            short_description=STR,
            description=STR,
            email=STR,
            version=STR,
            urls=_obj(["streaming_api"], streaming_api=URI),
            stats=_obj(
                ["user_count", "status_count", "domain_count"],
                user_count=INT,
                status_count=INT,
                domain_count=INT,
            ),
            thumbnail=URI,
            languages=STRINGS,
            registrations=BOOL,
            approval_required=BOOL,
            invites_enabled=BOOL,
            configuration={"type": "object"},
            contact_account={
                "type": ["object", "null"],
                "description": "the cooperative's account (Mastodon's Account)",
            },
            rules=_list("Rule"),
        ),
    },
    "InstanceV2": {
        "description": "Mastodon's Instance, with the cooperative's facts under ourdesign",
        **_obj(
            [
                "domain",
                "title",
                "version",
                "source_url",
                "description",
                "usage",
                "thumbnail",
                "languages",
                "configuration",
                "registrations",
                "contact",
                "rules",
                "ourdesign",
            ],
            domain=STR,
            title=STR,
            version=STR,
            source_url=STR,
            description=STR,
            usage=_obj(["users"], users=_obj(["active_month"], active_month=INT)),
            thumbnail=_obj(["url"], url=URI),
            languages=STRINGS,
            configuration={"type": "object"},
            registrations=_obj(
                ["enabled", "approval_required", "message", "url"],
                enabled=BOOL,
                approval_required=BOOL,
                message=STR,
                url={"type": "null"},
            ),
            contact=_obj(
                ["email", "account"],
                email=STR,
                account={"type": ["object", "null"], "description": "the cooperative's account"},
            ),
            rules=_list("Rule"),
            ourdesign={
                "type": "object",
                "description": "the NodeInfo metadata: organization, rules, registrations, "
                "defaultLicense (docs/COOPERATIVE.md)",
            },
        ),
    },
    "BoostTarget": _obj(
        ["uri"], uri={"type": "string", "format": "uri", "description": "a known design version"}
    ),
    "Boosted": _obj(["boosted"], boosted=URI),
    "Unboosted": _obj(["unboosted"], unboosted=URI),
}


def _path(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STR}


ID_PARAM = _path("id", "the id (a whole number)")
ACCOUNT_ID = _path("id", "the local or remote account's id, as shown in reports")
CODE = _path("code", "the invite's code")
STAFF = {**AUTH, "403": _error("needs the moderator role (or the account is suspended)")}
ADMIN = {**AUTH, "403": _error("needs the admin role (or the account is suspended)")}
FIELDS_POST = {**JSON_POST, "415": _error("neither JSON nor a form")}
PAGING = [
    _query("limit", "at most 200 (default 40)", schema=INT),
    _query("max_id", "the cursor from the Link header", schema=INT),
]


def _staff_post(
    summary: str, parameter: Schema, answer: str, schema: str, **errors: Schema
) -> Schema:
    """A moderators' POST on one row: `answer` describes the 200 body, a `schema` ref."""
    return {
        "post": {
            "summary": summary,
            "security": SECURED,
            "parameters": [parameter],
            "responses": {"200": _ok(answer, _ref(schema)), **STAFF, **errors},
        }
    }


def _report_change(summary: str) -> Schema:
    return _staff_post(
        summary, ID_PARAM, "the report", "AdminReport", **{"404": _error("no such report")}
    )


def _undo(summary: str) -> Schema:
    return _staff_post(
        summary,
        ACCOUNT_ID,
        "done",
        "Empty",
        **{
            "404": _error("no such account"),
            "409": _error("it comes from a domain block; lift the block instead"),
            "422": _error("not an action that can be undone"),
        },
    )


def _decision(summary: str) -> Schema:
    return _staff_post(
        summary,
        ID_PARAM,
        "the account",
        "AdminAccount",
        **{
            "404": _error("no such local account"),
            "422": _error("approved already; nothing to decide"),
        },
    )


_INSTANCE_V1 = {
    "get": {
        "summary": "The instance, as Mastodon's V1::Instance",
        "responses": {"200": _ok("the instance", _ref("InstanceV1"))},
    }
}
_INSTANCE_V2 = {
    "get": {
        "summary": "The instance and its cooperative, as Mastodon's Instance",
        "responses": {"200": _ok("the instance", _ref("InstanceV2"))},
    }
}
_DOMAIN_BLOCK_ID = _path("id", "the block's id (a whole number)")
_NO_BLOCK = {"404": _error("no such domain block")}

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
    # --- domain blocks ---
    "/api/v1/instance/domain_blocks": {
        "get": {
            "summary": "The public list of silenced and suspended domains",
            "responses": {"200": _ok("the blocks", _list("PublicDomainBlock"))},
        }
    },
    "/api/v1/admin/domain_blocks": {
        "get": {
            "summary": "Every domain block, oldest first (moderators)",
            "security": SECURED,
            "responses": {"200": _ok("the blocks", _list("DomainBlock")), **STAFF},
        },
        "post": {
            "summary": "Block a domain (moderators); audited",
            "security": SECURED,
            "requestBody": _fields_body("DomainBlockChange"),
            "responses": {
                "200": _ok("the block", _ref("DomainBlock")),
                **FIELDS_POST,
                **STAFF,
                "422": _error("no or an invalid domain, a bad field, or blocked already"),
            },
        },
    },
    "/api/v1/admin/domain_blocks/export": {
        "get": {
            "summary": "Every block as a Mastodon blocklist CSV (moderators)",
            "security": SECURED,
            "responses": {
                "200": {
                    "description": "#domain,#severity,#reject_media,#reject_reports,"
                    "#public_comment,#obfuscate",
                    "content": {"text/csv": {"schema": STR}},
                },
                **STAFF,
            },
        }
    },
    "/api/v1/admin/domain_blocks/import": {
        "post": {
            "summary": "Import a Mastodon blocklist CSV, all or nothing (moderators); audited",
            "security": SECURED,
            "requestBody": {
                "required": True,
                "description": "the CSV as the body (UTF-8); a domain-only list works too",
                "content": {"text/csv": {"schema": STR}},
            },
            "responses": {
                "200": _ok("what changed", _ref("ImportSummary")),
                **STAFF,
                "413": _error("the CSV is larger than the instance's limit"),
                "422": _error("not UTF-8, or bad lines (each named by number); nothing changed"),
            },
        }
    },
    "/api/v1/admin/domain_blocks/{id}": {
        "get": {
            "summary": "One domain block (moderators)",
            "security": SECURED,
            "parameters": [_DOMAIN_BLOCK_ID],
            "responses": {"200": _ok("the block", _ref("DomainBlock")), **STAFF, **_NO_BLOCK},
        },
        "put": {
            "summary": "Change the fields given; the others and the domain stay (moderators)",
            "security": SECURED,
            "parameters": [_DOMAIN_BLOCK_ID],
            "requestBody": _fields_body("DomainBlockChange"),
            "responses": {
                "200": _ok("the block", _ref("DomainBlock")),
                **FIELDS_POST,
                **STAFF,
                **_NO_BLOCK,
                "422": _error("a bad field"),
            },
        },
        "delete": {
            "summary": "Lift a domain block (moderators); audited",
            "security": SECURED,
            "parameters": [_DOMAIN_BLOCK_ID],
            "responses": {"200": _ok("lifted", _ref("Empty")), **STAFF, **_NO_BLOCK},
        },
    },
    # --- reports ---
    "/api/v1/reports": {
        "post": {
            "summary": "Report an account, optionally forwarding it to its server",
            "security": SECURED,
            "requestBody": _json_body("NewReport"),
            "responses": {
                "200": _ok("the report", _ref("Report")),
                **JSON_POST,
                "403": _error("the reporter is suspended"),
                "404": _error("no such account"),
                "422": _error(
                    "an unknown category, a long comment, your own account, "
                    "or objects by someone else"
                ),
                "502": _error("the remote account's server could not be reached"),
            },
        }
    },
    "/api/v1/admin/reports": {
        "get": {
            "summary": "The report queue, newest first (moderators)",
            "security": SECURED,
            "parameters": [
                _query(
                    "resolved",
                    "true: closed reports; false (default): open ones",
                    schema={"type": "boolean", "default": False},
                ),
                *PAGING,
            ],
            "responses": {
                "200": _ok("the reports", _list("AdminReport"), LINK),
                **BAD,
                **STAFF,
            },
        }
    },
    "/api/v1/admin/reports/{id}": {
        "get": {
            "summary": "One report (moderators)",
            "security": SECURED,
            "parameters": [ID_PARAM],
            "responses": {
                "200": _ok("the report", _ref("AdminReport")),
                **STAFF,
                "404": _error("no such report"),
            },
        }
    },
    "/api/v1/admin/reports/{id}/assign_to_self": _report_change(
        "Take a report (moderators); audited"
    ),
    "/api/v1/admin/reports/{id}/unassign": _report_change("Let go of a report (moderators)"),
    "/api/v1/admin/reports/{id}/resolve": _report_change(
        "Close a report with the action none (moderators)"
    ),
    "/api/v1/admin/reports/{id}/reopen": _report_change("Reopen a closed report (moderators)"),
    "/api/v1/admin/accounts/{id}/action": {
        "post": {
            "summary": "Silence or suspend an account, local or remote (moderators); audited",
            "security": SECURED,
            "parameters": [ACCOUNT_ID],
            "requestBody": _json_body("AccountAction"),
            "responses": {
                "200": _ok("done", _ref("Empty")),
                **JSON_POST,
                "403": _error(
                    "not a moderator, your own account, an admin (for moderators), "
                    "or the instance actor"
                ),
                "404": _error("no such account or report"),
                "422": _error("an unknown type"),
            },
        }
    },
    "/api/v1/admin/accounts/{id}/unsilence": _undo("Lift a silencing (moderators); audited"),
    "/api/v1/admin/accounts/{id}/unsuspend": _undo("Lift a suspension (moderators); audited"),
    "/api/v1/admin/audit_log": {
        "get": {
            "summary": "What moderators and admins did, newest first (moderators)",
            "security": SECURED,
            "parameters": PAGING,
            "responses": {
                "200": _ok("the entries", _list("AuditEntry"), LINK),
                **BAD,
                **STAFF,
            },
        }
    },
    # --- the instance and its cooperative ---
    **_slashed("/api/v1/instance", _INSTANCE_V1),
    **_slashed("/api/v2/instance", _INSTANCE_V2),
    "/api/v1/coop/boosts": {
        "post": {
            "summary": "Have the cooperative boost a known design version (moderators)",
            "security": SECURED,
            "requestBody": _json_body("BoostTarget"),
            "responses": {
                "200": _ok("boosted already", _ref("Boosted")),
                "201": _ok("boosted", _ref("Boosted")),
                **JSON_POST,
                **STAFF,
                "404": _error("no such design version here; fetch it first"),
                "422": _error("no uri, or not an http(s) URL"),
                "503": _error("the instance has no cooperative actor yet"),
            },
        },
        "delete": {
            "summary": "Undo the cooperative's boost of a design version (moderators)",
            "security": SECURED,
            "parameters": [_query("uri", "the design version's URI", required=True)],
            "responses": {
                "200": _ok("the boost is undone", _ref("Unboosted")),
                **STAFF,
                "404": _error("the cooperative has not boosted it"),
                "422": _error("no uri, or not an http(s) URL"),
                "503": _error("the instance has no cooperative actor yet"),
            },
        },
    },
}
