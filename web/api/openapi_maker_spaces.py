"""The OpenAPI fragment of the maker-space routes (`web.api.maker_spaces`)."""

from __future__ import annotations

from web.openapi_schema import (
    BAD,
    BOOL,
    JSON_POST,
    SECURED,
    STR,
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

PROCESS: Schema = {
    "type": "object",
    "required": ["process"],
    "properties": {
        "process": {
            "enum": [
                "3d-printing",
                "laser-cutting",
                "cnc-milling",
                "electronics-assembly",
                "sewing",
                "welding",
            ]
        },
        "buildVolume": {"description": "mm: {x, y, z, unit}, [x, y, z] or '250x210x210'"},
        "materials": {"type": "array", "items": STR},
    },
}

SCHEMAS: dict[str, Schema] = {
    "MakerSpace": _obj(
        ["town", "processes"],
        town=STR,
        region={"type": ["string", "null"]},
        country={"type": ["string", "null"], "description": "ISO 3166 code"},
        takesOrders=BOOL,
        processes={"type": "array", "items": PROCESS},
    ),
    "NewMakerSpace": {
        "description": "a MakerSpace (takes_orders may be written so), or {maker_space: null}"
    },
    "SavedMakerSpace": _obj(
        ["actor"], actor=URI, maker_space={"oneOf": [_ref("MakerSpace"), {"type": "null"}]}
    ),
    "NearbyMakerSpace": _obj(
        ["actor", "distance", "maker_space"],
        actor=URI,
        handle=STR,
        name=STR,
        entity_kind=STR,
        local=BOOL,
        distance={"enum": ["town", "region", "country", "elsewhere"]},
        maker_space=_ref("MakerSpace"),
    ),
    "NearbyMakerSpaces": _obj(["maker_spaces"], maker_spaces=_list("NearbyMakerSpace")),
}

PATHS: dict[str, Schema] = {
    "/api/v1/maker_space": {
        "put": {
            "summary": "Publish (or withdraw) what your cooperative or nonprofit can make",
            "security": SECURED,
            "requestBody": _json_body("NewMakerSpace"),
            "responses": {
                "200": _ok("saved and sent to your followers", _ref("SavedMakerSpace")),
                **JSON_POST,
                "403": _error("not a cooperative or nonprofit"),
                "422": _error("a bad process, volume or place"),
            },
        }
    },
    "/api/v1/maker_spaces": {
        "get": {
            "summary": "Maker spaces this instance knows that can make it, nearest first",
            "parameters": [
                _query("version", "a known version URI: what it declares it needs"),
                _query("process", "one of the processes"),
                _query("volume", "the part's size in mm, as 200x200x150"),
                _query("town", "yours"),
                _query("region", "yours"),
                _query("country", "yours (ISO 3166 code)"),
                _query("orders", "'true': only those that take orders"),
            ],
            "responses": {
                "200": _ok("the maker spaces", _ref("NearbyMakerSpaces")),
                **BAD,
                "404": _error("no such version"),
            },
        }
    },
}

FRAGMENT = Fragment(PATHS, SCHEMAS)
