"""The status an id names, if the viewer may see it: what every route on one status (read,
reply, favourite, edit, vote) checks first, kept below the route modules that share it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.errors import FederationError
from objects.design_models import DesignVersion
from objects.designs import project_of
from objects.hiding import blocks
from objects.models import Note
from objects.search import Item
from objects.visibility import may_read
from web.mastodon.paging import NOT_FOUND, find_item


async def readable_item(session: AsyncSession, viewer: Actor | None, status_id: str) -> Item:
    """The status, if it exists, is not deleted, its author is shown and the viewer may see it."""
    return await check_readable(session, viewer, await find_item(session, status_id))


async def check_readable(session: AsyncSession, viewer: Actor | None, item: Item | None) -> Item:
    """The item, if it is not deleted, its author is shown, the viewer may see it and its
    author does not block the viewer; else 404, as if it did not exist."""
    if item is None or item.deleted_at is not None or not await _author_shown(session, item):
        raise FederationError(NOT_FOUND, status=404)
    if not await may_read(session, viewer, item):
        raise FederationError(NOT_FOUND, status=404)
    if viewer and isinstance(item, Note) and await blocks(session, item.actor_id, viewer.id):
        raise FederationError(NOT_FOUND, status=404)  # as on Mastodon, for who is blocked
    return item


async def _author_shown(session: AsyncSession, item: Item) -> bool:
    actor: Actor | None
    if isinstance(item, DesignVersion):
        actor = (await project_of(session, item))[1]
    else:
        actor = await session.get(Actor, item.actor_id)
    return actor is not None and actor.deleted_at is None and actor.suspended_at is None
