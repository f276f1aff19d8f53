"""The OpenAPI fragment of the native JSON API (`GET /api/v1/openapi.json` serves the whole).

Hand-written, next to the shapes it describes (`web.api.shapes`) and the handlers
(`web.api.designs`, `web.api.edits`); the account and moderation routes keep theirs in
`web.api.openapi_accounts` and `web.api.openapi_moderation`, merged into `FRAGMENT`. The
Mastodon face has its own (`web.mastodon.openapi`); web.app gives both to the route.
`tests/test_design_api.py` checks that every /api/ route is in the whole document.
"""

from __future__ import annotations

from web.api import openapi_accounts, openapi_maker_spaces, openapi_makes, openapi_moderation
from web.openapi_schema import (
    AUTH,
    BAD,
    BOOL,
    INT,
    JSON_POST,
    LINK,
    NULLABLE_URI,
    SECURED,
    STR,
    STRINGS,
    URI,
    URIS,
    Fragment,
    Schema,
    _error,
    _json_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
    merged,
)

LICENCE: Schema = {
    "description": "One SPDX expression for the whole design, or one per component.",
    "oneOf": [
        STR,
        _obj(
            ["hardware", "documentation", "software"], hardware=STR, documentation=STR, software=STR
        ),
    ],
}

SCHEMAS: dict[str, Schema] = {
    "Error": _obj(["error"], error={"type": "string", "description": "What was wrong, what to do"}),
    "File": _obj(
        ["filename", "media_type", "size", "sha256", "cid", "url", "preview"],
        filename=STR,
        media_type=STR,
        size=INT,
        sha256={"type": "string", "pattern": "^[0-9a-f]{64}$"},
        cid={
            "type": ["string", "null"],
            "description": "IPFS CIDv1 (base32), as `ipfs add --cid-version 1 --raw-leaves` "
            "gives it; null for a remote file over 256 KiB whose bytes are not held here",
        },
        url=URI,
        preview=BOOL,
    ),
    "Version": _obj(
        ["id", "project", "number", "label", "name", "licence", "files"],
        id=URI,
        project=URI,
        number=INT,
        label=STR,
        name=STR,
        summary=STR,
        changelog={"type": "string", "description": "what changed since the version before"},
        content={"type": "string", "description": "sanitised HTML"},
        source={"type": ["string", "null"], "description": "Markdown; local versions only"},
        tags=STRINGS,
        licence=LICENCE,
        licence_summary=STR,
        license_urls=URIS,
        commercial_use=STR,
        who_may_fork=STR,
        authors=URIS,
        credits=URIS,
        upstream=NULLABLE_URI,
        published={"type": "string", "format": "date-time"},
        replies_count=INT,
        makes_count=INT,
        needs={"type": ["object", "null"], "description": "processes, buildVolume, materials"},
        okh_manifest={**NULLABLE_URI, "description": "its okh.toml (versions published here)"},
        files=_list("File"),
    ),
    "Project": _obj(
        ["id", "handle", "name", "local", "maintainers"],
        id=URI,
        handle={"type": "string", "description": "slug@domain"},
        name=STR,
        summary=STR,
        local=BOOL,
        upstream=NULLABLE_URI,
        versions_count=INT,
        forks_count=INT,
        makes_count=INT,
        tags=STRINGS,
        maintainers=URIS,
        latest_version=NULLABLE_URI,
        followers=NULLABLE_URI,
    ),
    "ProjectWithVersions": {
        "allOf": [
            _ref("Project"),
            _obj(
                ["versions"],
                versions={
                    "type": "array",
                    "items": _ref("Version"),
                    "description": "up to 20, newest first",
                },
            ),
        ]
    },
    "NewProject": _obj(
        ["slug"], slug={"type": "string", "pattern": "^[a-z0-9_]{1,30}$"}, name=STR, summary=STR
    ),
    "NewVersion": _obj(
        [],
        label=STR,
        name=STR,
        summary=STR,
        description={"type": "string", "description": "Markdown"},
        changelog={"type": "string", "description": "plain text, at most 5000 characters"},
        keep={
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "description": "SHA-256 of files of the latest version to keep in this one",
        },
        tags={"type": "string", "description": "comma separated, or the field repeated"},
        licence={
            "type": "string",
            "description": "SPDX expression; the instance default if absent",
        },
        licence_hardware=STR,
        licence_documentation=STR,
        licence_software=STR,
        files={
            "type": "array",
            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
        },
        previews={"type": "array", "items": {"type": "string", "contentMediaType": "image/*"}},
    ),
    "NewFork": _obj(
        ["upstream"],
        upstream={
            "type": "string",
            "format": "uri",
            "description": "a version URI, local or remote",
        },
        slug={"type": "string", "description": "required unless dry_run"},
        name=STR,
        licence={**LICENCE, "description": "the upstream's licence if absent"},
        dry_run={"type": "boolean", "default": False},
    ),
    "Fork": _obj(["project", "version"], project=_ref("Project"), version=_ref("Version")),
    "ForkCheck": _obj(
        ["allowed", "reason", "licence"],
        allowed=BOOL,
        reason={"type": ["string", "null"]},
        licence=LICENCE,
    ),
    "NewComment": _obj(
        ["in_reply_to", "content"],
        in_reply_to={"type": "string", "format": "uri", "description": "a version or note URI"},
        content={"type": "string", "description": "plain text"},
        summary={"type": "string", "description": "content warning"},
    ),
    "Comment": _obj(
        ["id", "author", "in_reply_to", "content", "licence"],
        id=URI,
        url=URI,
        author=URI,
        in_reply_to=URI,
        content={"type": "string", "description": "sanitised HTML"},
        summary={"type": ["string", "null"]},
        sensitive=BOOL,
        to=URIS,
        cc=URIS,
        licence={"const": "NOASSERTION"},
        published={"type": "string", "format": "date-time"},
    ),
    "TextFix": _obj(
        [],
        name={"type": "string"},
        summary={"type": "string"},
        description={"type": "string", "description": "Markdown"},
        tags={"type": "array", "items": {"type": "string"}},
        licence={"description": "if given, must equal the published licence (422 otherwise)"},
    ),
    "NewMaintainer": _obj(["username"], username={"type": "string"}),
    "NewFollow": _obj(
        ["target"],
        target={"type": "string", "description": "@slug@host, slug@host or an actor URL"},
    ),
    "Following": _obj(
        ["following", "state"], following=URI, state={"enum": ["pending", "accepted"]}
    ),
    "ForkNode": _obj(
        ["project", "version", "forks"],
        project=URI,
        version=NULLABLE_URI,
        forks=_list("ForkNode"),
    ),
    "Lineage": _obj(
        ["version", "ancestors", "unknown_upstream", "descendants"],
        version=URI,
        ancestors={"type": "array", "items": URI, "description": "this version up to the root"},
        unknown_upstream=NULLABLE_URI,
        descendants=_ref("ForkNode"),
    ),
}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": STR}


PATHS: dict[str, Schema] = {
    "/api/v1/designs": {
        "get": {
            "summary": "List and search design projects (newest first, keyset paging)",
            "parameters": [
                _query("q", "text in the project's name or summary or a version's name"),
                _query("tag", "a tag"),
                _query("licence", "an SPDX expression a version carries (whole or a component)"),
                _query("instance", "the domain of the project"),
                _query("max_id", "the cursor from the Link header", schema=INT),
                _query("limit", "at most 40 (default 20)", schema=INT),
            ],
            "responses": {
                "200": _ok("projects", _list("Project"), LINK),
                **BAD,
                "422": _error("an invalid licence expression"),
            },
        },
        "post": {
            "summary": "Create a design project; the token's person maintains it",
            "security": SECURED,
            "requestBody": _json_body("NewProject"),
            "responses": {
                "201": _ok("the project", _ref("Project")),
                **JSON_POST,
                "409": _error("the slug is taken by a person or a project"),
                "422": _error("an invalid slug"),
            },
        },
    },
    "/api/v1/designs/by-uri": {
        "get": {
            "summary": "A known project (local or remote) by its actor URI",
            "parameters": [_query("uri", "the project actor's URI", required=True)],
            "responses": {
                "200": _ok("the project", _ref("ProjectWithVersions")),
                **BAD,
                "404": _error("unknown"),
            },
        }
    },
    "/api/v1/designs/{slug}": {
        "get": {
            "summary": "A local project with its latest versions",
            "parameters": [SLUG],
            "responses": {
                "200": _ok("the project", _ref("ProjectWithVersions")),
                "404": _error("no such project"),
            },
        }
    },
    "/api/v1/designs/{slug}/versions": {
        "post": {
            "summary": "Publish a new version (maintainers only)",
            "security": SECURED,
            "parameters": [SLUG],
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": _ref("NewVersion")}},
            },
            "responses": {
                "201": _ok("the version", _ref("Version")),
                **BAD,
                **AUTH,
                "403": _error("not a maintainer"),
                "404": _error("no such project"),
                "413": _error("a file or the upload is over the instance's limit"),
                "415": _error("not multipart/form-data, or a preview that is not an image"),
                "422": _error("the licence was refused (the reason says why)"),
            },
        }
    },
    "/api/v1/versions": {
        "get": {
            "summary": "A known version by URI",
            "parameters": [_query("uri", "the version's URI", required=True)],
            "responses": {
                "200": _ok("the version", _ref("Version")),
                **BAD,
                "404": _error("unknown"),
                "410": _error("deleted"),
            },
        },
        "patch": {
            "summary": "Fix the text of a local version (maintainers); sent as Update(Page)",
            "security": SECURED,
            "parameters": [_query("uri", "the version's URI", required=True)],
            "requestBody": _json_body("TextFix"),
            "responses": {
                "200": _ok("the version", _ref("Version")),
                **JSON_POST,
                "403": _error("not a maintainer"),
                "404": _error("no such local version"),
                "410": _error("deleted"),
                "422": _error("a published version's licence cannot change"),
            },
        },
    },
    "/api/v1/designs/{slug}/maintainers": {
        "post": {
            "summary": "Add a local person as a maintainer (maintainers)",
            "security": SECURED,
            "parameters": [SLUG],
            "requestBody": _json_body("NewMaintainer"),
            "responses": {
                "201": _ok("the project", _ref("Project")),
                **JSON_POST,
                "403": _error("not a maintainer"),
                "404": _error("no such project"),
                "422": _error("no such local person"),
            },
        }
    },
    "/api/v1/forks": {
        "post": {
            "summary": "Fork a version (local or remote) into a new project, or check a fork",
            "security": SECURED,
            "requestBody": _json_body("NewFork"),
            "responses": {
                "200": _ok("dry_run: would the fork be allowed", _ref("ForkCheck")),
                "201": _ok("the new project and its first version", _ref("Fork")),
                **JSON_POST,
                "404": _error("no such upstream version"),
                "409": _error("the slug is taken"),
                "410": _error("the upstream version was deleted"),
                "422": _error("the licence does not allow this fork (the reason says why)"),
                "502": _error("the upstream's server could not be reached"),
            },
        }
    },
    "/api/v1/comments": {
        "post": {
            "summary": "Comment on a version or reply to a note",
            "security": SECURED,
            "requestBody": _json_body("NewComment"),
            "responses": {
                "201": _ok("the comment", _ref("Comment")),
                **JSON_POST,
                "404": _error("no such version or note"),
                "410": _error("the version or note was deleted"),
                "422": _error("empty or too long"),
            },
        }
    },
    "/api/v1/follows": {
        "post": {
            "summary": "Follow a project or a person, here or on another server",
            "security": SECURED,
            "requestBody": _json_body("NewFollow"),
            "responses": {
                "202": _ok("the follow was sent", _ref("Following")),
                **JSON_POST,
                "404": _error("no such actor"),
                "422": _error("not a handle or URL, or yourself"),
            },
        }
    },
    "/api/v1/lineage": {
        "get": {
            "summary": "Where a version came from and where its project went",
            "parameters": [_query("version", "a known version URI", required=True)],
            "responses": {
                "200": _ok("the lineage", _ref("Lineage")),
                **BAD,
                "404": _error("unknown"),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This description",
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
            },
        }
    },
}


# The native API's part; accounts and moderation keep theirs beside their routes.
FRAGMENT = merged(
    Fragment(PATHS, SCHEMAS),
    openapi_accounts.FRAGMENT,
    openapi_moderation.FRAGMENT,
    openapi_makes.FRAGMENT,
    openapi_maker_spaces.FRAGMENT,
)
