"""The JSON API for makes: record that you built a design version, list a project's makes.

Recording goes through `web.design_actions.post_make`, so the licence rule
(`objects.makes.admit_make`) is the one the page form and the inbox apply. Photos are
uploads made first (`POST /api/v2/media`), named by `media_ids`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from federation.errors import FederationError, ValidationError
from objects.convert import iso
from objects.designs import get_version, project_of, project_or_404
from objects.make_models import Make
from objects.makes import make_spec, makes_of
from objects.models import Note
from web.api.shapes import text_field
from web.bearer import token_actor
from web.design_actions import post_make
from web.instance import instance_of
from web.request_input import json_body
from web.scopes import PUBLIC, ScopedRoute

MAX_MEDIA = 4


def make_json(make: Make, note: Note, maker: Actor, version_uri: str) -> dict[str, Any]:
    return {
        "id": make.uri,
        "url": note.url or note.uri,
        "maker": maker.uri,
        "version": version_uri,
        "content": note.content,
        "place": make.place or None,
        "made_by": make.made_by_uri,
        "settings": make.settings or None,
        "for_sale": make.for_sale,
        "photos": [
            {"url": item.get("url"), "description": item.get("name")}
            for item in (note.document or {}).get("attachment", [])
        ],
        "published": iso(note.published),
    }


async def create_make(request: Request) -> Response:
    instance = instance_of(request)
    maker = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    spec = make_spec(
        text_field(body, "version", required=True) or "",
        place=body.get("place") or "",
        made_by_uri=body.get("made_by"),
        settings=body.get("settings") or "",
        for_sale=body.get("for_sale", False),
    )
    make, note = await post_make(
        instance, maker, spec, text_field(body, "content") or "", _media_ids(body)
    )
    doc = make_json(make, note, maker, spec.version_uri)
    return JSONResponse(doc, status_code=201, headers={"Location": make.uri})


def _media_ids(body: dict[str, Any]) -> list[int]:
    value = body.get("media_ids", [])
    if not isinstance(value, list) or len(value) > MAX_MEDIA:
        raise ValidationError(f"'media_ids' is a list of at most {MAX_MEDIA} upload ids")
    try:
        return [int(item) for item in value if not isinstance(item, bool)]
    except (TypeError, ValueError) as exc:
        raise ValidationError("'media_ids' holds the ids of your uploads") from exc


async def list_makes(request: Request) -> Response:
    """A local project's makes (`design`: its handle), or one version's (`version`: URI)."""
    instance = instance_of(request)
    slug, uri = request.query_params.get("design"), request.query_params.get("version")
    async with instance.sessions() as session:
        version = None
        if uri:
            version = await get_version(session, uri)
            if version is None:
                raise FederationError(f"no design version {uri!r:.200} is known here", status=404)
            project, actor = await project_of(session, version)
        elif slug:
            project, actor = await project_or_404(session, slug)
        else:
            raise ValidationError(
                "give 'design' (a project's handle) or 'version' (its URI)", status=400
            )
        if actor.suspended_at is not None or actor.deleted_at is not None:
            raise FederationError("this project is not shown here", status=404)
        rows = await makes_of(session, project, version=version)
    return JSONResponse(
        {
            "project": actor.uri,
            "makes_count": project.makes_count if version is None else version.makes_count,
            "makes": [make_json(*row) for row in rows],
        }
    )


routes = [
    ScopedRoute("/api/v1/makes", list_makes, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/api/v1/makes", create_make, methods=["POST"], scope="write:statuses"),
]
