"""The OpenAPI fragment of Mastodon's client API, beside its routes.

`FRAGMENT` adds app registration (`openapi_oauth`) and the instance (`openapi_instance`);
web.app merges it with the native API's into the whole document. The shapes are those of
`web.mastodon.entities` and `web.mastodon.status`, the handlers those of the route modules
of web/mastodon/. docs/MASTODON.md explains them.
"""

from __future__ import annotations

from web.mastodon import openapi_instance, openapi_oauth
from web.openapi_schema import (
    AUTH,
    BOOL,
    INT,
    NULLABLE_STR,
    SECURED,
    STR,
    Fragment,
    Schema,
    _error,
    _fields_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
    _slashed,
    merged,
)

ID_PATH = {"name": "id", "in": "path", "required": True, "schema": STR}
NAME_PATH = {"name": "name", "in": "path", "required": True, "schema": STR}
NOT_FOUND = {"404": _error("Record not found")}
INVALID = {"422": _error("a value is not acceptable")}
PAGE_LINK = {
    "Link": {
        "description": 'the next and previous pages: <...max_id=N>; rel="next", '
        '<...min_id=N>; rel="prev"',
        "schema": STR,
    }
}
PAGING = [
    _query("limit", "at most this many (default 40, at most 80)"),
    _query("max_id", "older than this"),
    _query("since_id", "newer than this"),
    _query("min_id", "the page just after this"),
]
FIELD = _obj(["name", "value"], name=STR, value=STR, verified_at=NULLABLE_STR)
ANY_LIST: Schema = {"type": "array", "items": {"type": "object"}}
ANY_FORM: Schema = {"type": "object"}  # a form's fields are not described
ACCOUNTS: Schema = _list("Account")
NOTIFICATION_TYPES = [
    "follow",
    "follow_request",
    "favourite",
    "reblog",
    "mention",
    "status",
    "update",
]

SCHEMAS: dict[str, Schema] = {
    "Account": _obj(
        ["id", "username", "acct", "display_name", "url", "followers_count"],
        id=STR,
        username=STR,
        acct={"type": "string", "description": "user for local people, user@host otherwise"},
        display_name=STR,
        locked=BOOL,
        bot=BOOL,
        group=BOOL,
        note={"type": "string", "description": "HTML"},
        url=STR,
        uri=STR,
        avatar=STR,
        followers_count=INT,
        following_count=INT,
        statuses_count=INT,
        fields={"type": "array", "items": FIELD},
    ),
    "CredentialAccount": {
        "allOf": [
            _ref("Account"),
            _obj(
                ["source", "role"],
                source=_obj(
                    ["note", "fields", "privacy", "sensitive", "language"],
                    note={"type": "string", "description": "plain text"},
                    fields={"type": "array", "items": FIELD},
                    privacy=STR,
                    sensitive=BOOL,
                    language=STR,
                    follow_requests_count=INT,
                ),
                role=_obj(["id", "name"], id=STR, name=STR),
            ),
        ]
    },
    "ProfileChange": _obj(
        [],
        display_name=STR,
        note={"type": "string", "description": "plain text"},
        locked=BOOL,
        entity_kind={"enum": ["individual", "nonprofit", "cooperative", "company", "unknown"]},
        fields_attributes={
            "type": "array",
            "description": 'a field named "Entity kind" sets entity_kind',
            "items": _obj(["name", "value"], name=STR, value=STR),
        },
    ),
    "Relationship": _obj(
        ["id", "following", "followed_by", "requested"],
        id=STR,
        following=BOOL,
        followed_by=BOOL,
        requested=BOOL,
        requested_by=BOOL,
        blocking=BOOL,
        blocked_by=BOOL,
        muting=BOOL,
        muting_notifications=BOOL,
        domain_blocking=BOOL,
    ),
    "Preferences": {"type": "object", "description": "posting and reading defaults"},
    "Status": _obj(
        ["id", "uri", "created_at", "account", "content", "visibility"],
        id={
            "type": "string",
            "description": 'a note\'s row id, "v" and a version\'s, or "r" and a boost\'s',
        },
        uri=STR,
        url=NULLABLE_STR,
        created_at=STR,
        account=_ref("Account"),
        content={"type": "string", "description": "HTML"},
        spoiler_text=STR,
        sensitive=BOOL,
        visibility={"enum": ["public", "unlisted", "private", "direct"]},
        in_reply_to_id=NULLABLE_STR,
        in_reply_to_account_id=NULLABLE_STR,
        media_attachments=ANY_LIST,
        tags=ANY_LIST,
        card={"type": ["object", "null"]},
        favourites_count=INT,
        reblogs_count=INT,
        replies_count=INT,
        favourited=BOOL,
        reblogged=BOOL,
        edited_at=NULLABLE_STR,
        language=NULLABLE_STR,
        reblog={"type": ["object", "null"], "description": "a boost: the Status boosted"},
        poll={"oneOf": [_ref("Poll"), {"type": "null"}]},
    ),
    "Poll": _obj(
        ["id", "expired", "multiple", "votes_count", "options", "voted", "own_votes"],
        id=STR,
        expires_at=NULLABLE_STR,
        expired=BOOL,
        multiple=BOOL,
        votes_count=INT,
        voters_count={"type": ["integer", "null"]},
        options={"type": "array", "items": {"type": "object"}},
        voted=BOOL,
        own_votes={"type": "array", "items": INT},
    ),
    "StatusEdit": _obj(
        ["content", "spoiler_text", "sensitive", "created_at", "account"],
        content={"type": "string", "description": "HTML"},
        spoiler_text=STR,
        sensitive=BOOL,
        created_at=STR,
        account=_ref("Account"),
        media_attachments=ANY_LIST,
        poll={"type": ["object", "null"]},
    ),
    "StatusSource": _obj(["id", "text", "spoiler_text"], id=STR, text=STR, spoiler_text=STR),
    "StatusChange": _obj(
        [],
        status=STR,
        spoiler_text=STR,
        sensitive=BOOL,
        language=STR,
        media_ids={"type": "array", "items": STR, "maxItems": 4},
    ),
    "Votes": _obj(["choices"], choices={"type": "array", "items": INT}),
    "Notification": _obj(
        ["id", "type", "created_at", "account"],
        id=STR,
        type={"enum": NOTIFICATION_TYPES},
        created_at=STR,
        group_key=STR,
        account=_ref("Account"),
        status=_ref("Status"),
        ourdesign_type={
            "enum": ["fork"],
            "description": 'a fork of one of one\'s designs (type "status", its version)',
        },
    ),
    "NewStatus": _obj(
        [],
        status={"type": "string", "description": "plain text; may be empty with media_ids"},
        in_reply_to_id=STR,
        spoiler_text=STR,
        visibility={"enum": ["public", "unlisted", "private", "direct"]},
        media_ids={
            "type": "array",
            "items": STR,
            "maxItems": 4,
            "description": "one's own uploads not attached yet (media_ids[] in a form)",
        },
        language={"type": "string", "description": "an ISO 639 code"},
        poll={
            "type": "object",
            "description": "options (2 to 4), expires_in (seconds), multiple, hide_totals "
            "(poll[options][] … in a form)",
        },
        scheduled_at={
            "type": "string",
            "description": "ISO 8601, at least 5 minutes ahead: kept as a ScheduledStatus "
            "(the answer) and published then",
        },
    ),
    "Markers": {
        "type": "object",
        "description": "by timeline (home, notifications): last_read_id, version, updated_at",
        "additionalProperties": _obj(
            ["last_read_id"], last_read_id=STR, version={"type": "integer"}, updated_at=STR
        ),
    },
    "Tag": _obj(
        ["name", "url", "history"],
        id=STR,
        name={"type": "string", "description": "lower case, without #"},
        url=STR,
        history={"type": "array"},
        following=BOOL,
    ),
    "Reschedule": _obj(["scheduled_at"], scheduled_at=STR),
    "ScheduledStatus": _obj(
        ["id", "scheduled_at", "params", "media_attachments"],
        id=STR,
        scheduled_at=STR,
        params={"type": "object", "description": "the parameters as sent (text, visibility...)"},
        media_attachments={
            "type": "array",
            "items": {"$ref": "#/components/schemas/MediaAttachment"},
        },
    ),
    "MediaAttachment": _obj(
        ["id", "type", "url", "preview_url", "description"],
        id=STR,
        type={"enum": ["image"]},
        url={"type": "string", "description": "/media/{sha256}.{extension}: never changes"},
        preview_url=STR,
        remote_url=NULLABLE_STR,
        meta={"type": ["object", "null"], "description": "original width, height, aspect"},
        description=NULLABLE_STR,
        blurhash=NULLABLE_STR,
    ),
    "MediaUpload": _obj(
        ["file"],
        file={"type": "string", "format": "binary", "description": "JPEG, PNG, GIF or WebP"},
        description={"type": "string", "description": "alt text, at most 1500 characters"},
        focus={"type": "string", "description": "focal point 'x,y', each -1.0 to 1.0"},
    ),
    "Context": _obj(
        ["ancestors", "descendants"],
        ancestors=_list("Status"),
        descendants=_list("Status"),
    ),
}


STATUS_PAGING = [
    _query("limit", "at most this many (default 20, at most 40)"),
    _query("max_id", "older than this status"),
    _query("since_id", "newer than this status"),
    _query("min_id", "the page just after this status"),
]
STATUSES: Schema = _list("Status")


def _media_upload(summary: str) -> Schema:
    return {
        "post": {
            "summary": summary,
            "security": SECURED,
            "requestBody": {"content": {"multipart/form-data": {"schema": _ref("MediaUpload")}}},
            "responses": {
                "200": _ok("stored", _ref("MediaAttachment")),
                "413": _error("the file is over the size limit"),
                **AUTH,
                **_INVALID_FILE,
            },
        }
    }


_INVALID_FILE = {"422": _error("not a JPEG, PNG, GIF or WebP image, or a bad field")}


def _media_op(method: str, summary: str, *, body: bool = False) -> Schema:
    operation = _account_op(method, summary, _ref("MediaAttachment"), **AUTH, **INVALID)
    operation[method]["security"] = SECURED
    if body:
        fields = _obj([], description=STR, focus=STR)
        operation[method]["requestBody"] = _fields_body(fields, None, required=False)
    return operation


def _status_op(method: str, summary: str, schema: Schema, **extra: Schema) -> Schema:
    return _account_op(method, summary, schema, **INVALID, **extra)


def _timeline(summary: str, *params: Schema, signed_in: bool = False) -> Schema:
    operation: Schema = {
        "summary": summary,
        "parameters": [*params, *STATUS_PAGING],
        "responses": {"200": _ok("a page, newest first", STATUSES, PAGE_LINK), **INVALID},
    }
    return _get_operation(operation, signed_in=signed_in)


def _get(summary: str, schema: Schema, *, signed_in: bool = False, **extra: Schema) -> Schema:
    operation: Schema = {"summary": summary, "responses": {"200": _ok("OK", schema), **extra}}
    return _get_operation(operation, signed_in=signed_in)


def _get_operation(operation: Schema, *, signed_in: bool) -> Schema:
    """A GET; `signed_in` adds the bearer token and its 401."""
    if signed_in:
        operation["security"] = SECURED
        operation["responses"].update(AUTH)
    return {"get": operation}


def _account_op(method: str, summary: str, schema: Schema, **extra: Schema) -> Schema:
    operation: Schema = {
        "summary": summary,
        "parameters": [ID_PATH],
        "responses": {"200": _ok("OK", schema), **NOT_FOUND, **extra},
    }
    return {method: operation}


def _tag_op(summary: str) -> Schema:
    operation: Schema = {
        "summary": summary,
        "security": SECURED,
        "parameters": [NAME_PATH],
        "responses": {"200": _ok("the tag", _ref("Tag")), **AUTH, **NOT_FOUND},
    }
    return {"post": operation}


def _follow_list(summary: str) -> Schema:
    return {
        "get": {
            "summary": summary,
            "parameters": [ID_PATH, *PAGING],
            "responses": {"200": _ok("a page", ACCOUNTS, PAGE_LINK), **NOT_FOUND, **INVALID},
        }
    }


def _stream(summary: str, *params: Schema, signed_in: bool = False) -> Schema:
    """A Server-Sent Events stream (the same streams are offered over a WebSocket at
    /api/v1/streaming; OpenAPI cannot describe that)."""
    events = "event: update|notification|delete, data: a Status, Notification or status id"
    operation: Schema = {
        "summary": summary,
        "parameters": [*params, _query("access_token", "the token, instead of a header")],
        "responses": {
            "200": {"description": events, "content": {"text/event-stream": {"schema": STR}}},
            **AUTH,
        },
    }
    if signed_in:
        operation["security"] = SECURED
    return {"get": operation}


def _search(summary: str, hashtags: Schema) -> Schema:
    results = _obj(
        ["accounts", "statuses", "hashtags"],
        accounts=ACCOUNTS,
        statuses=STATUSES,
        hashtags=hashtags,
    )
    parameters = [
        _query("q", "a handle, a URL, or words in names, summaries, tags and posts"),
        _query("type", "accounts, statuses or hashtags (default: all three)"),
        _query("resolve", "true: look a handle or URL up on its server (needs a token)"),
        _query("limit", "at most this many of each (default 20, at most 40)"),
        _query("offset", "skip this many of each"),
        _query("account_id", "only statuses of this account"),
        _query("following", "true: only accounts the signed-in person follows"),
    ]
    operation = {"summary": summary, "parameters": parameters}
    return {"get": {**operation, "responses": {"200": _ok("OK", results), **AUTH, **INVALID}}}


_TAG = _obj(["name", "url", "history"], name=STR, url=STR, history=ANY_LIST)
_ME = _get("The signed-in person's account", _ref("CredentialAccount"), signed_in=True)
_EMPTY = "Not a feature here: always empty"


def _notification_op(method: str, summary: str, schema: Schema, *params: Schema) -> Schema:
    operation: Schema = {
        "summary": summary,
        "security": SECURED,
        "parameters": list(params),
        "responses": {"200": _ok("OK", schema), **AUTH, **NOT_FOUND, "403": _error("scope")},
    }
    return {method: operation}


_NOTIFICATIONS: dict[str, Schema] = {
    "/api/v1/notifications": {
        "get": {
            "summary": "The signed-in person's notifications, newest first",
            "security": SECURED,
            "parameters": [
                _query("types[]", "only these types (repeat)"),
                _query("exclude_types[]", "not these types (repeat)"),
                _query("account_id", "only from this account"),
                *STATUS_PAGING,
            ],
            "responses": {
                "200": _ok("a page", _list("Notification"), PAGE_LINK),
                **AUTH,
                **INVALID,
            },
        }
    },
    "/api/v1/notifications/unread_count": _notification_op(
        "get",
        "How many notifications there are (all count as unread: markers are not stored)",
        _obj(["count"], count=INT),
        _query("limit", "count at most this many (default 100, at most 1000)"),
    ),
    "/api/v1/notifications/clear": _notification_op(
        "post", "Delete all of one's notifications", {"type": "object"}
    ),
    "/api/v1/notifications/{id}": _notification_op(
        "get", "One notification", _ref("Notification"), ID_PATH
    ),
    "/api/v1/notifications/{id}/dismiss": _notification_op(
        "post", "Delete one notification", {"type": "object"}, ID_PATH
    ),
}

PATHS: dict[str, Schema] = {
    **_NOTIFICATIONS,
    **_slashed("/api/v1/accounts/verify_credentials", _ME),
    "/api/v1/accounts/update_credentials": {
        "patch": {
            "summary": "Change the signed-in person's profile; followers get an Update",
            "security": SECURED,
            "requestBody": _fields_body("ProfileChange", None, required=False, form=ANY_FORM),
            "responses": {"200": _ok("changed", _ref("CredentialAccount")), **AUTH, **INVALID},
        }
    },
    "/api/v1/accounts/lookup": {
        "get": {
            "summary": "An account by handle (user or user@host; remote ones are fetched)",
            "parameters": [_query("acct", "user or user@host", required=True)],
            "responses": {"200": _ok("found", _ref("Account")), **NOT_FOUND, **INVALID},
        }
    },
    "/api/v1/accounts/search": {
        "get": {
            "summary": "Accounts by name or handle; resolve=true (signed in) fetches a handle",
            "parameters": [
                _query("q", "a name, handle or URL", required=True),
                _query("resolve", "true: look a handle up on its server"),
                _query("limit", "at most this many (default 40, at most 80)"),
            ],
            "responses": {"200": _ok("found", ACCOUNTS), **AUTH, **INVALID},
        }
    },
    "/api/v1/accounts/relationships": {
        "get": {
            "summary": "How the signed-in person and these accounts stand",
            "security": SECURED,
            "parameters": [_query("id[]", "account ids (repeat)")],
            "responses": {
                "200": _ok("one per id", _list("Relationship")),
                **AUTH,
            },
        }
    },
    "/api/v1/accounts/{id}": _account_op("get", "An account", _ref("Account")),
    "/api/v1/accounts/{id}/followers": _follow_list("Who follows the account"),
    "/api/v1/accounts/{id}/following": _follow_list("Whom the account follows"),
    "/api/v1/accounts/{id}/statuses": {
        "get": {
            "summary": "The account's statuses (a project's include its design versions)",
            "parameters": [
                ID_PATH,
                *STATUS_PAGING,
                _query("exclude_replies", "true: no replies"),
                _query("pinned", "true: only the statuses the account pinned"),
                _query("only_media", "true: only statuses with media (versions with files)"),
                _query("exclude_reblogs", "true: no boosts"),
                _query("tagged", "only statuses with this hashtag"),
            ],
            "responses": {"200": _ok("a page", STATUSES, PAGE_LINK), **NOT_FOUND, **INVALID},
        }
    },
    "/api/v1/accounts/{id}/follow": _account_op(
        "post", "Follow the account (sent to its server)", _ref("Relationship"), **AUTH
    ),
    "/api/v1/accounts/{id}/unfollow": _account_op(
        "post", "Stop following the account (an Undo is sent)", _ref("Relationship"), **AUTH
    ),
    "/api/v1/statuses": {
        "post": {
            "summary": "Post a status (a reply to a design version is a comment on it)",
            "security": SECURED,
            "parameters": [
                {"name": "Idempotency-Key", "in": "header", "required": False, "schema": STR}
            ],
            "requestBody": _fields_body("NewStatus", None, required=False, form=ANY_FORM),
            "responses": {
                "200": _ok("posted (a ScheduledStatus with scheduled_at)", _ref("Status")),
                **AUTH,
                **NOT_FOUND,
                **INVALID,
            },
        }
    },
    **_slashed(
        "/api/v1/scheduled_statuses",
        {
            "get": {
                "summary": "One's statuses waiting to be published, newest first",
                "security": SECURED,
                "parameters": PAGING,
                "responses": {
                    "200": _ok(
                        "a page", {"type": "array", "items": _ref("ScheduledStatus")}, PAGE_LINK
                    ),
                    **AUTH,
                },
            }
        },
    ),
    "/api/v1/scheduled_statuses/{id}": {
        **_account_op("get", "One waiting status", _ref("ScheduledStatus"), **AUTH),
        "put": {
            "summary": "Move it to another time (scheduled_at, 5 minutes ahead at least)",
            "security": SECURED,
            "parameters": [ID_PATH],
            "requestBody": _fields_body("Reschedule", None, required=True, form=ANY_FORM),
            "responses": {
                "200": _ok("moved", _ref("ScheduledStatus")),
                **AUTH,
                **NOT_FOUND,
                **INVALID,
            },
        },
        **_account_op("delete", "Cancel it: it is never published", {"type": "object"}, **AUTH),
    },
    "/api/v1/statuses/{id}": {
        **_status_op("get", "A status", _ref("Status")),
        **_status_op(
            "delete", "Delete one's own status; answers it with its text", _ref("Status"), **AUTH
        ),
        "put": {
            "summary": "Edit one's own status (an Update is sent; the history keeps the past)",
            "security": SECURED,
            "parameters": [ID_PATH],
            "requestBody": _fields_body("StatusChange", None, form=ANY_FORM),
            "responses": {"200": _ok("edited", _ref("Status")), **AUTH, **NOT_FOUND, **INVALID},
        },
    },
    "/api/v1/statuses/{id}/history": _status_op(
        "get", "Every version of the status, oldest first", _list("StatusEdit")
    ),
    "/api/v1/statuses/{id}/source": _status_op(
        "get", "One's own status's text as written", _ref("StatusSource"), **AUTH
    ),
    "/api/v1/polls/{id}": _status_op("get", "A poll", _ref("Poll")),
    "/api/v1/polls/{id}/votes": {
        "post": {
            "summary": "Vote (once; the poll must still be open)",
            "security": SECURED,
            "parameters": [ID_PATH],
            "requestBody": _fields_body("Votes", None, form=ANY_FORM),
            "responses": {"200": _ok("voted", _ref("Poll")), **AUTH, **NOT_FOUND, **INVALID},
        }
    },
    "/api/v1/favourites": {
        "get": {
            "summary": "The signed-in person's favourites, newest favourite first",
            "security": SECURED,
            "parameters": PAGING,
            "responses": {"200": _ok("a page", STATUSES, PAGE_LINK), **AUTH, **INVALID},
        }
    },
    "/api/v1/statuses/{id}/context": _status_op(
        "get", "The thread around a status", _ref("Context")
    ),
    "/api/v1/statuses/{id}/favourite": _status_op(
        "post", "Favourite (a Like is sent)", _ref("Status"), **AUTH
    ),
    "/api/v1/statuses/{id}/unfavourite": _status_op(
        "post", "Undo a favourite", _ref("Status"), **AUTH
    ),
    "/api/v1/statuses/{id}/reblog": _status_op(
        "post", "Boost (an Announce is sent)", _ref("Status"), **AUTH
    ),
    "/api/v1/statuses/{id}/unreblog": _status_op("post", "Undo a boost", _ref("Status"), **AUTH),
    "/api/v1/statuses/{id}/favourited_by": _status_op("get", "Who favourited it", ACCOUNTS),
    "/api/v1/statuses/{id}/reblogged_by": _status_op("get", "Who boosted it", ACCOUNTS),
    "/api/v1/statuses/{id}/bookmark": _status_op(
        "post", "Bookmark a status (kept here, not sent anywhere)", _ref("Status"), **AUTH
    ),
    "/api/v1/statuses/{id}/unbookmark": _status_op(
        "post", "Remove a bookmark", _ref("Status"), **AUTH
    ),
    "/api/v1/tags/{name}": {
        "get": {
            "summary": "A hashtag (following: whether the token's person follows it)",
            "parameters": [NAME_PATH],
            "responses": {"200": _ok("the tag", _ref("Tag")), **NOT_FOUND},
        }
    },
    "/api/v1/tags/{name}/follow": _tag_op("Follow the hashtag: its posts and designs come home"),
    "/api/v1/tags/{name}/unfollow": _tag_op("Stop following the hashtag"),
    **_slashed(
        "/api/v1/followed_tags",
        _get("The hashtags one follows", {"type": "array", "items": _ref("Tag")}, signed_in=True),
    ),
    "/api/v1/statuses/{id}/pin": _status_op(
        "post", "Pin one's own note to one's profile (an Add is sent)", _ref("Status"), **AUTH
    ),
    "/api/v1/statuses/{id}/unpin": _status_op(
        "post", "Unpin it (a Remove is sent)", _ref("Status"), **AUTH
    ),
    "/api/v1/bookmarks": {
        "get": {
            "summary": "The signed-in person's bookmarks, newest first",
            "security": SECURED,
            "parameters": PAGING,
            "responses": {
                "200": _ok("a page", STATUSES, PAGE_LINK),
                **AUTH,
                **INVALID,
            },
        }
    },
    "/api/v1/media": _media_upload("Upload an image to attach to a status"),
    "/api/v2/media": _media_upload("The same (processed at once, so 200 as well)"),
    "/api/v1/media/{id}": {
        **_media_op("get", "One's own upload"),
        **_media_op("put", "Change description or focus while not attached", body=True),
    },
    "/api/v2/search": _search("Accounts, statuses and tags", {"type": "array", "items": _TAG}),
    "/api/v1/search": _search("The same, tags as names", {"type": "array", "items": STR}),
    "/api/v1/timelines/home": _timeline(
        "Notes and designs of whom one follows, and one's own", signed_in=True
    ),
    "/api/v1/timelines/public": _timeline(
        "Public notes and design versions",
        _query("local", "true: only this instance's"),
        _query("remote", "true: only other instances'"),
    ),
    "/api/v1/streaming/health": {
        "get": {
            "summary": "Whether streaming is up: OK",
            "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": STR}}}},
        }
    },
    "/api/v1/streaming": _stream(
        "Any stream, named by ?stream= (user, public, public:local, hashtag, ...)",
        _query("stream", "the stream's name", required=True),
        _query("tag", "the hashtag, for hashtag streams"),
    ),
    "/api/v1/streaming/user": _stream(
        "The home timeline's new statuses and one's notifications", signed_in=True
    ),
    "/api/v1/streaming/user/notification": _stream("One's notifications", signed_in=True),
    "/api/v1/streaming/public": _stream("New public statuses"),
    "/api/v1/streaming/public/local": _stream("New public statuses from this instance"),
    "/api/v1/streaming/public/remote": _stream("New public statuses from other instances"),
    "/api/v1/streaming/hashtag": _stream(
        "New design versions with a tag", _query("tag", "the hashtag", required=True)
    ),
    "/api/v1/streaming/hashtag/local": _stream(
        "This instance's new design versions with a tag",
        _query("tag", "the hashtag", required=True),
    ),
    "/api/v1/timelines/tag/{hashtag}": _timeline(
        "Design versions with this tag",
        {"name": "hashtag", "in": "path", "required": True, "schema": STR},
        _query("local", "true: only this instance's"),
    ),
    **_slashed("/api/v1/custom_emojis", _get(_EMPTY, ANY_LIST)),
    **_slashed("/api/v1/announcements", _get(_EMPTY, ANY_LIST, signed_in=True)),
    **_slashed(
        "/api/v1/preferences",
        _get("Posting and reading defaults", _ref("Preferences"), signed_in=True),
    ),
    **_slashed(
        "/api/v1/follow_requests",
        {
            "get": {
                "summary": "People waiting for the signed-in person to accept them",
                "security": SECURED,
                "parameters": PAGING,
                "responses": {"200": _ok("a page", ACCOUNTS, PAGE_LINK), **AUTH},
            }
        },
    ),
    "/api/v1/follow_requests/{id}/authorize": _account_op(
        "post",
        "Accept the account's follow request (an Accept is sent)",
        _ref("Relationship"),
        **AUTH,
    ),
    "/api/v1/follow_requests/{id}/reject": _account_op(
        "post",
        "Reject the account's follow request (a Reject is sent)",
        _ref("Relationship"),
        **AUTH,
    ),
    "/api/v1/markers": {
        "get": {
            "summary": "Where one stopped reading: timeline[]=home and/or notifications",
            "security": SECURED,
            "parameters": [_query("timeline[]", "home or notifications (repeat for both)")],
            "responses": {"200": _ok("the markers kept", _ref("Markers")), **AUTH},
        },
        "post": {
            "summary": "Save reading positions (home[last_read_id], notifications[last_read_id])",
            "security": SECURED,
            "requestBody": _fields_body("Markers", None, required=True, form=ANY_FORM),
            "responses": {"200": _ok("the markers saved", _ref("Markers")), **AUTH, **INVALID},
        },
    },
    **_slashed("/api/v1/trends", _get(_EMPTY, ANY_LIST)),
    **_slashed("/api/v1/trends/tags", _get(_EMPTY, ANY_LIST)),
    **_slashed("/api/v1/trends/statuses", _get(_EMPTY, ANY_LIST)),
    **_slashed("/api/v1/trends/links", _get(_EMPTY, ANY_LIST)),
    **_slashed(
        "/api/v1/instance/peers",
        _get("Domains of the servers known here", {"type": "array", "items": STR}),
    ),
    **_slashed("/api/v1/instance/activity", _get(_EMPTY, ANY_LIST)),
    **_slashed(
        "/api/v1/instance/rules",
        _get("The cooperative's rules", _list("Rule")),
    ),
}

# Mastodon's client API; app registration and the instance keep theirs beside their routes.
FRAGMENT = merged(Fragment(PATHS, SCHEMAS), openapi_oauth.FRAGMENT, openapi_instance.FRAGMENT)
