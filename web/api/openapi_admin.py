"""What the OpenAPI fragments of the account, moderation and cooperative routes share:
enumerations, path parameters, the staff-only answers and the shapes of their operations."""

from __future__ import annotations

from web.openapi_schema import (
    AUTH,
    INT,
    JSON_POST,
    SECURED,
    STR,
    Schema,
    _error,
    _ok,
    _query,
    _ref,
)

ROLE: Schema = {"enum": ["member", "moderator", "admin"]}
SEVERITY: Schema = {"enum": ["silence", "suspend", "noop"]}
CATEGORY: Schema = {"enum": ["spam", "legal", "violation", "other"]}


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


_DOMAIN_BLOCK_ID = _path("id", "the block's id (a whole number)")
_NO_BLOCK = {"404": _error("no such domain block")}
