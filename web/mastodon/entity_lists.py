"""What several Mastodon routes share: status and account entities for a list, and the
account an id names. Route modules call these instead of importing each other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import visible
from federation.errors import FederationError
from objects.models import Interaction
from objects.search import Item
from web.instance import Instance
from web.mastodon.paging import NOT_FOUND, items_by_uri
from web.mastodon.status import (
    Shown,
    entities_of_actors,
    reblog_entity,
    status_context,
    status_entity,
)
from web.request_input import whole_id


async def entities(
    session: AsyncSession, instance: Instance, viewer: Actor | None, items: Sequence[Shown]
) -> list[dict[str, Any]]:
    """Status entities, in order; a boost wraps its original, and a boost whose original
    the viewer may not read (or that is gone) is left out."""
    boosts = [item for item in items if isinstance(item, Interaction)]
    originals = await items_by_uri(
        session, [boost.object_uri for boost in boosts], viewer, shown_only=True
    )
    kept = [i for i in items if not isinstance(i, Interaction) or i.object_uri in originals]
    statuses: list[Item] = [i for i in kept if not isinstance(i, Interaction)]
    statuses += [originals[b.object_uri] for b in boosts if b.object_uri in originals]
    context = await status_context(
        session,
        instance.urls,
        instance.policy,
        viewer,
        list(dict.fromkeys(statuses)),
        rejects_media=instance.blocks.rejects_media,
        boosters={boost.actor_id for boost in boosts},
    )
    return [
        reblog_entity(item, status_entity(originals[item.object_uri], context), context)
        if isinstance(item, Interaction)
        else status_entity(item, context)
        for item in kept
    ]


async def accounts_json(
    session: AsyncSession, instance: Instance, actors: Sequence[Actor]
) -> list[dict[str, Any]]:
    """Account entities for a list of actors, in order, in a fixed number of queries."""
    by_id = await entities_of_actors(session, instance.urls, actors)
    return [by_id[actor.id] for actor in actors]


def parse_account_id(value: str) -> int:
    return whole_id(value, NOT_FOUND)


async def visible_actor(session: AsyncSession, account_id: str) -> Actor:
    actor = await session.scalar(
        select(Actor).where(Actor.id == parse_account_id(account_id), visible())
    )
    if actor is None:
        raise FederationError(NOT_FOUND, status=404)
    return actor
