"""The building blocks of the OpenAPI 3.1 description (`GET /api/v1/openapi.json`), and the
document itself, merged from the fragments each face keeps beside its routes
(web.api.openapi, web.mastodon.openapi). web.app hands the fragments to the route that
serves the document, so no face imports another's description."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


def _list(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


STR: Schema = {"type": "string"}
URI: Schema = {"type": "string", "format": "uri"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
NULLABLE_URI: Schema = {"type": ["string", "null"], "format": "uri"}
NULLABLE_STR: Schema = {"type": ["string", "null"]}
STRINGS: Schema = {"type": "array", "items": STR}
URIS: Schema = {"type": "array", "items": URI}


def _error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(description: str, schema: Schema, headers: Schema | None = None) -> Schema:
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _query(name: str, description: str, *, required: bool = False, schema: Schema = STR) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _slashed(path: str, item: Schema) -> dict[str, Schema]:
    """The path with and without the trailing slash some apps add (both are routes)."""
    return {path: item, f"{path}/": item}


FIELDS_NOTE = "JSON, or a form (application/x-www-form-urlencoded or multipart/form-data)"


def _fields_body(
    schema: str | Schema,
    description: str | None = FIELDS_NOTE,
    *,
    required: bool = True,
    form: Schema | None = None,
) -> Schema:
    """A body read as JSON or a form, e.g. by `web.account_json.fields_of`: `schema` (a name
    stands for a reference to it) for each, or `form` for the two forms when given
    (`description` None: none)."""
    json_schema = _ref(schema) if isinstance(schema, str) else schema
    form_schema = json_schema if form is None else form
    body: Schema = {"required": True} if required else {}
    if description is not None:
        body["description"] = description
    body["content"] = {
        "application/json": {"schema": json_schema},
        "application/x-www-form-urlencoded": {"schema": form_schema},
        "multipart/form-data": {"schema": form_schema},
    }
    return body


def _json_body(name: str) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


BAD = {"400": _error("malformed request")}
AUTH = {"401": _error("no or invalid bearer token")}
JSON_POST = {
    **BAD,
    **AUTH,
    "413": _error("the body is larger than the instance's limit"),
    "415": _error("the body is not application/json"),
}


SECURED: list[Schema] = [{"bearer": []}]
LINK = {"Link": {"description": 'the next page: <...max_id=N>; rel="next"', "schema": STR}}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_INT: Schema = {"type": ["integer", "null"]}
ID: Schema = {"type": "string", "description": "a whole number, as a string (as on Mastodon)"}


@dataclass(frozen=True)
class Fragment:
    """The paths of some routes and the schemas they name, kept beside those routes."""

    paths: dict[str, Schema]
    schemas: dict[str, Schema]


def merged(*fragments: Fragment) -> Fragment:
    paths: dict[str, Schema] = {}
    schemas: dict[str, Schema] = {}
    for fragment in fragments:
        paths |= fragment.paths
        schemas |= fragment.schemas
    return Fragment(paths, schemas)


def openapi_document(base_url: str, fragments: Iterable[Fragment]) -> dict[str, Any]:
    whole = merged(*fragments)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Our Design API",
            "version": "1",
            "description": "Design projects, versions, forks, comments and follows; accounts, "
            "invites, moderation (domain blocks, reports, audit log) and the instance. "
            'Errors are {"error": "..."}. See docs/API.md, docs/ACCOUNTS.md, '
            "docs/MODERATION.md and docs/COOPERATIVE.md.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": base_url}],
        "paths": whole.paths,
        "components": {
            "schemas": whole.schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from 'ourdesign token create NAME'",
                }
            },
        },
    }
