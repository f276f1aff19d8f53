"""An actor's `featured` collection: the notes they pinned, as Mastodon serves it (an
OrderedCollection of the notes themselves, only those anyone may read)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from federation.vocab import AS_CONTEXT
from objects.convert import note_to_as
from outbox.pins import featured_notes, featured_url
from web.http import ActivityResponse
from web.instance import instance_of
from web.request_input import local_actor_or_404


async def featured(request: Request) -> Response:
    actor = await local_actor_or_404(request)
    async with instance_of(request).sessions() as session:
        notes = await featured_notes(session, actor)
    return ActivityResponse(
        {
            "@context": AS_CONTEXT,
            "id": featured_url(actor),
            "type": "OrderedCollection",
            "totalItems": len(notes),
            "orderedItems": [note_to_as(note, actor.uri, with_context=False) for note in notes],
        }
    )


routes: list[BaseRoute] = [Route("/users/{username}/collections/featured", featured)]
