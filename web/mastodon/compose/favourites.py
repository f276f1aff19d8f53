"""The signed-in person's favourites, as Mastodon lists them: newest favourite first, paged
by the favourite's own id (in the Link header), not the status's."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from objects.models import LIKE, Interaction
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.entity_lists import entities
from web.mastodon.paging import ids_link_header, items_by_uri, read_id_page
from web.scopes import ScopedRoute


async def favourites(request: Request) -> Response:
    """Statuses gone or hidden since are left out of the page; its cursors still move on."""
    instance = instance_of(request)
    me = await token_actor(request)
    query = select(Interaction.id, Interaction.object_uri).where(
        Interaction.actor_id == me.id, Interaction.kind == LIKE
    )
    async with instance.sessions() as session:
        rows = await read_id_page(session, request, query, Interaction.id)
        uris = [uri for _, uri in rows]
        found = await items_by_uri(session, uris, me, shown_only=True)
        shown = await entities(session, instance, me, [found[uri] for uri in uris if uri in found])
    return JSONResponse(shown, headers=ids_link_header(request, [row_id for row_id, _ in rows]))


routes = [
    ScopedRoute("/api/v1/favourites", favourites, methods=["GET"], scope="read:favourites"),
]
