"""The OpenAPI fragment of moderation: domain blocks (`web.api.moderation`, shapes in
`web.blocklists`), reports and the audit log (`web.api.reports`, `web.api.report_shapes`)
and the cooperative's boosts (`web.api.coop`). docs/MODERATION.md and docs/COOPERATIVE.md
explain them."""

from __future__ import annotations

from web.api.openapi_admin import (
    _DOMAIN_BLOCK_ID,
    _NO_BLOCK,
    ACCOUNT_ID,
    CATEGORY,
    FIELDS_POST,
    ID_PARAM,
    PAGING,
    SEVERITY,
    STAFF,
    _report_change,
    _undo,
)
from web.openapi_schema import (
    BAD,
    BOOL,
    ID,
    INT,
    JSON_POST,
    LINK,
    NULLABLE_DATE_TIME,
    NULLABLE_STR,
    SECURED,
    STR,
    STRINGS,
    URI,
    Fragment,
    Schema,
    _error,
    _fields_body,
    _json_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
)

SCHEMAS: dict[str, Schema] = {
    # --- domain blocks ---
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
    # --- reports and the audit log ---
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
    # --- the cooperative's boosts ---
    "BoostTarget": _obj(
        ["uri"], uri={"type": "string", "format": "uri", "description": "a known design version"}
    ),
    "Boosted": _obj(["boosted"], boosted=URI),
    "Unboosted": _obj(["unboosted"], unboosted=URI),
}

PATHS: dict[str, Schema] = {
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
    # --- the cooperative's boosts ---
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

FRAGMENT = Fragment(PATHS, SCHEMAS)
