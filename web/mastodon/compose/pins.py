"""Pinning statuses from Mastodon apps: one's own notes, featured on one's profile and
federated as Mastodon does (see `outbox.pins`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from federation.errors import ValidationError
from objects.models import Note
from outbox.pins import pin, unpin
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.entity_lists import entities
from web.mastodon.reading import readable_item
from web.scopes import ScopedRoute


async def pin_status(request: Request) -> Response:
    return await _change(request, pinned=True)


async def unpin_status(request: Request) -> Response:
    return await _change(request, pinned=False)


async def _change(request: Request, *, pinned: bool) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
        if not isinstance(item, Note):
            raise ValidationError(
                "a design version is its project's, not yours: it cannot be pinned"
            )
        await (pin if pinned else unpin)(session, instance.urls, me, item)
        await session.commit()
        [entity] = await entities(session, instance, me, [item])
    instance.wake_delivery()
    return JSONResponse(entity)


routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/statuses/{id}/pin", pin_status, methods=["POST"], scope="write:accounts"),
    ScopedRoute(
        "/api/v1/statuses/{id}/unpin", unpin_status, methods=["POST"], scope="write:accounts"
    ),
]
