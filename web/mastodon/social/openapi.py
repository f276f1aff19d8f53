"""The OpenAPI description of Mastodon's blocks, mutes, domain blocks, lists, filters and
conversations (`web.mastodon.social`: relations, lists, filters, conversations). Merged
into the app's description by `web.app`; docs/MASTODON.md explains them."""

from __future__ import annotations

from web.mastodon.openapi import (
    ACCOUNTS,
    ANY_FORM,
    ID_PATH,
    INVALID,
    NOT_FOUND,
    PAGE_LINK,
    PAGING,
    STATUS_PAGING,
    STATUSES,
)
from web.openapi_schema import (
    AUTH,
    BOOL,
    NULLABLE_STR,
    SECURED,
    STR,
    Fragment,
    Schema,
    _fields_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
    _slashed,
)

DOMAINS: Schema = {"type": "array", "items": STR}
EMPTY: Schema = {"type": "object", "description": "{}"}
CONTEXTS: Schema = {
    "type": "array",
    "items": {"enum": ["home", "notifications", "public", "thread", "account"]},
}
KEYWORD = _obj(["id", "keyword", "whole_word"], id=STR, keyword=STR, whole_word=BOOL)

SCHEMAS: dict[str, Schema] = {
    "List": _obj(
        ["id", "title", "replies_policy", "exclusive"],
        id=STR,
        title=STR,
        replies_policy={"enum": ["list", "followed", "none"]},
        exclusive=BOOL,
    ),
    "ListChange": _obj(
        [],
        title=STR,
        replies_policy={"enum": ["list", "followed", "none"]},
        exclusive=BOOL,
    ),
    "AccountIds": _obj(["account_ids"], account_ids={"type": "array", "items": STR}),
    "Mute": _obj(
        [],
        notifications={"type": "boolean", "description": "hide their notifications (true)"},
        duration={"type": "integer", "description": "seconds; 0: until unmuted"},
    ),
    "Domain": _obj(["domain"], domain=STR),
    "FilterKeyword": KEYWORD,
    "Filter": _obj(
        ["id", "title", "context", "filter_action", "keywords"],
        id=STR,
        title=STR,
        context=CONTEXTS,
        expires_at=NULLABLE_STR,
        filter_action={"enum": ["warn", "hide"]},
        keywords={"type": "array", "items": KEYWORD},
        statuses={"type": "array", "items": {"type": "object"}},
    ),
    "FilterChange": _obj(
        [],
        title=STR,
        context=CONTEXTS,
        filter_action={"enum": ["warn", "hide"]},
        expires_in={"type": ["integer", "string"], "description": "seconds; empty: never"},
        keywords_attributes={
            "type": "array",
            "items": _obj([], id=STR, keyword=STR, whole_word=BOOL, _destroy=BOOL),
        },
    ),
    "FilterV1": _obj(
        ["id", "phrase", "context"],
        id=STR,
        phrase=STR,
        context=CONTEXTS,
        whole_word=BOOL,
        expires_at=NULLABLE_STR,
        irreversible=BOOL,
    ),
    "Conversation": _obj(
        ["id", "unread", "accounts", "last_status"],
        id=STR,
        unread=BOOL,
        accounts=ACCOUNTS,
        last_status=_ref("Status"),
    ),
}


def _op(
    method: str,
    summary: str,
    schema: Schema,
    *,
    path_id: bool = True,
    body: str | None = None,
    params: list[Schema] | None = None,
    headers: Schema | None = None,
) -> Schema:
    """A signed-in operation: its 200 answer, and 401, 404 (an id not of one's own) and
    422 (a bad value)."""
    operation: Schema = {
        "summary": summary,
        "security": SECURED,
        "parameters": [*([ID_PATH] if path_id else []), *(params or [])],
        "responses": {"200": _ok("OK", schema, headers), **AUTH, **NOT_FOUND, **INVALID},
    }
    if body is not None:
        operation["requestBody"] = _fields_body(body, None, required=False, form=ANY_FORM)
    return {method: operation}


PATHS: dict[str, Schema] = {
    # Blocks, mutes and domain blocks
    "/api/v1/accounts/{id}/block": _op(
        "post", "Block the account (a Block is sent; follows end)", _ref("Relationship")
    ),
    "/api/v1/accounts/{id}/unblock": _op("post", "Lift the block", _ref("Relationship")),
    "/api/v1/accounts/{id}/mute": _op(
        "post", "Mute the account (private)", _ref("Relationship"), body="Mute"
    ),
    "/api/v1/accounts/{id}/unmute": _op("post", "Lift the mute", _ref("Relationship")),
    "/api/v1/blocks": _op(
        "get", "Blocked accounts", ACCOUNTS, path_id=False, params=PAGING, headers=PAGE_LINK
    ),
    "/api/v1/mutes": _op(
        "get", "Muted accounts", ACCOUNTS, path_id=False, params=PAGING, headers=PAGE_LINK
    ),
    "/api/v1/domain_blocks": {
        **_op("get", "Domains one hides", DOMAINS, path_id=False, params=PAGING),
        **_op("post", "Hide a domain", EMPTY, path_id=False, body="Domain"),
        **_op(
            "delete",
            "Stop hiding a domain",
            EMPTY,
            path_id=False,
            params=[_query("domain", "the domain (or in the body)")],
        ),
    },
    # Lists
    **_slashed(
        "/api/v1/lists",
        {
            **_op("get", "One's lists", _list("List"), path_id=False),
            **_op("post", "Make a list", _ref("List"), path_id=False, body="ListChange"),
        },
    ),
    "/api/v1/lists/{id}": {
        **_op("get", "One of one's lists", _ref("List")),
        **_op("put", "Change a list", _ref("List"), body="ListChange"),
        **_op("delete", "Delete a list", EMPTY),
    },
    "/api/v1/lists/{id}/accounts": {
        **_op("get", "The list's accounts", ACCOUNTS, params=PAGING, headers=PAGE_LINK),
        **_op("post", "Add accounts one follows", EMPTY, body="AccountIds"),
        **_op("delete", "Take accounts off", EMPTY, body="AccountIds"),
    },
    "/api/v1/accounts/{id}/lists": _op("get", "One's lists holding the account", _list("List")),
    "/api/v1/timelines/list/{id}": _op(
        "get", "The list's timeline", STATUSES, params=STATUS_PAGING, headers=PAGE_LINK
    ),
    # Filters
    **_slashed("/api/v1/filters", _op("get", "Filters v1", _list("FilterV1"), path_id=False)),
    **_slashed(
        "/api/v2/filters",
        {
            **_op("get", "One's filters", _list("Filter"), path_id=False),
            **_op("post", "Make a filter", _ref("Filter"), path_id=False, body="FilterChange"),
        },
    ),
    "/api/v2/filters/{id}": {
        **_op("get", "One of one's filters", _ref("Filter")),
        **_op("put", "Change a filter and its keywords", _ref("Filter"), body="FilterChange"),
        **_op("delete", "Delete a filter", EMPTY),
    },
    "/api/v2/filters/{id}/keywords": {
        **_op("get", "The filter's keywords", _list("FilterKeyword")),
        **_op("post", "Add a keyword", _ref("FilterKeyword"), body="FilterKeyword"),
    },
    "/api/v2/filters/keywords/{id}": {
        **_op("get", "A keyword", _ref("FilterKeyword")),
        **_op("put", "Change a keyword", _ref("FilterKeyword"), body="FilterKeyword"),
        **_op("delete", "Delete a keyword", EMPTY),
    },
    # Conversations
    "/api/v1/conversations": _op(
        "get",
        "One's threads of direct statuses, latest first",
        _list("Conversation"),
        path_id=False,
        params=STATUS_PAGING,
        headers=PAGE_LINK,
    ),
    "/api/v1/conversations/{id}/read": _op("post", "Mark it read", _ref("Conversation")),
    "/api/v1/conversations/{id}": _op("delete", "Take it off the list", EMPTY),
}


FRAGMENT = Fragment(PATHS, SCHEMAS)
