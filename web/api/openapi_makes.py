"""The OpenAPI fragment of the makes routes (`web.api.makes`), merged by `web.api.openapi`."""

from __future__ import annotations

from web.openapi_schema import (
    BAD,
    BOOL,
    INT,
    JSON_POST,
    NULLABLE_STR,
    NULLABLE_URI,
    SECURED,
    URI,
    Fragment,
    Schema,
    _error,
    _json_body,
    _list,
    _obj,
    _ok,
    _query,
    _ref,
)

SCHEMAS: dict[str, Schema] = {
    "NewMake": _obj(
        ["version"],
        version={"type": "string", "format": "uri", "description": "the version you built"},
        content={"type": "string", "description": "your notes, plain text"},
        place={"type": "string", "description": "a town or maker space; never coordinates"},
        made_by={"type": "string", "format": "uri", "description": "the maker space's actor"},
        settings={"type": "string", "description": "the settings or changes used"},
        for_sale={"type": "boolean", "description": "refused where the licence forbids it"},
        media_ids={"type": "array", "items": INT, "description": "your uploads: photos"},
    ),
    "MakePhoto": _obj(["url"], url=URI, description=NULLABLE_STR),
    "Make": _obj(
        ["id", "maker", "version", "content", "for_sale", "photos"],
        id=URI,
        url=URI,
        maker=URI,
        version=URI,
        content={"type": "string", "description": "sanitised HTML"},
        place=NULLABLE_STR,
        made_by=NULLABLE_URI,
        settings=NULLABLE_STR,
        for_sale=BOOL,
        photos=_list("MakePhoto"),
        published={"type": "string", "format": "date-time"},
    ),
    "Makes": _obj(
        ["project", "makes_count", "makes"], project=URI, makes_count=INT, makes=_list("Make")
    ),
}

PATHS: dict[str, Schema] = {
    "/api/v1/makes": {
        "get": {
            "summary": "A project's makes, or one version's, newest first",
            "parameters": [
                _query("design", "a local project's handle (slug)"),
                _query("version", "a known version URI"),
            ],
            "responses": {
                "200": _ok("the makes", _ref("Makes")),
                **BAD,
                "404": _error("no such project or version"),
            },
        },
        "post": {
            "summary": "Record that you built a design version (federated to its project)",
            "security": SECURED,
            "requestBody": _json_body("NewMake"),
            "responses": {
                "201": _ok("the make", _ref("Make")),
                **JSON_POST,
                "404": _error("no such version"),
                "410": _error("the version was deleted"),
                "422": _error("refused by the licence (a sale), coordinates as place, bad fields"),
            },
        },
    },
}

FRAGMENT = Fragment(PATHS, SCHEMAS)
