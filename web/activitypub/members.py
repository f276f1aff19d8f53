"""The cooperative's members, as an ActivityPub collection of actor URIs (newest first)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.models import Actor
from outbox.coop import (
    coop_actor,
    member_count,
    members_query,
    members_url,
)
from web.http import ActivityResponse, ordered_collection, ordered_page
from web.instance import instance_of
from web.negotiation import see_page, wants_html
from web.request_input import query_int

MEMBERS_PAGE = 50


async def members(request: Request) -> Response:
    """The cooperative's members as an OrderedCollection of actor URIs (newest first)."""
    instance = instance_of(request)
    async with instance.sessions() as session:
        coop = await coop_actor(session, instance.settings)
        if coop is None or coop.username != request.path_params["username"]:
            return JSONResponse({"error": "only the cooperative has a members list"}, 404)
        collection_id = members_url(instance.urls, coop)
        if wants_html(request):
            return see_page(coop.uri)
        if "page" not in request.query_params:
            total = await member_count(session)
            return ActivityResponse(ordered_collection(collection_id, total))
        before = query_int(request, "max_id")
        query = members_query().order_by(Actor.id.desc()).limit(MEMBERS_PAGE + 1)
        if before is not None:
            query = query.where(Actor.id < before)
        rows = list((await session.scalars(query)).all())
    more = len(rows) > MEMBERS_PAGE
    rows = rows[:MEMBERS_PAGE]
    page_id = str(request.url)
    next_cursor = rows[-1].id if more else None
    items = [actor.uri for actor in rows]
    return ActivityResponse(ordered_page(collection_id, page_id, items, next_cursor, "max_id"))


routes = [
    Route("/users/{username}/members", members),
]
