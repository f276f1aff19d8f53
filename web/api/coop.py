"""The cooperative's boosts, decided by moderators: POST and DELETE /api/v1/coop/boosts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.moderation import record_audit
from federation.errors import ValidationError
from outbox.coop import (
    boost,
    unboost,
)
from web.bearer import staff_actor
from web.instance import instance_of
from web.request_input import json_body
from web.scopes import ScopedRoute


async def create_boost(request: Request) -> Response:
    """A moderator has the cooperative boost a design version (local or already fetched)."""
    instance = instance_of(request)
    moderator = await staff_actor(request)
    uri = _version_uri(await json_body(request, instance.settings.max_body_bytes))
    async with instance.sessions() as session:
        created = await boost(session, instance.urls, instance.settings, uri)
        if created:
            await record_audit(session, moderator, "coop.boost", "version", uri)
        await session.commit()
    instance.wake_delivery()
    return JSONResponse({"boosted": uri}, status_code=201 if created else 200)


async def delete_boost(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    uri = _version_uri(dict(request.query_params))
    async with instance.sessions() as session:
        undone = await unboost(session, instance.urls, instance.settings, uri)
        if undone:
            await record_audit(session, moderator, "coop.unboost", "version", uri)
        await session.commit()
    if not undone:
        return JSONResponse({"error": f"the cooperative has not boosted {uri}"}, 404)
    instance.wake_delivery()
    return JSONResponse({"unboosted": uri})


def _version_uri(body: dict[str, Any]) -> str:
    uri = body.get("uri")
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        raise ValidationError("give 'uri': the URL of a design version this instance knows")
    return uri


routes = [
    ScopedRoute("/api/v1/coop/boosts", create_boost, methods=["POST"], scope="admin:write"),
    ScopedRoute("/api/v1/coop/boosts", delete_boost, methods=["DELETE"], scope="admin:write"),
]
