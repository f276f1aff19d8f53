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
from objects.search import Item
from web.instance import Instance
from web.mastodon.paging import NOT_FOUND
from web.mastodon.status import entities_of_actors, status_context, status_entities
from web.request_input import whole_id


async def entities(
    session: AsyncSession, instance: Instance, viewer: Actor | None, items: list[Item]
) -> list[dict[str, Any]]:
    context = await status_context(
        session,
        instance.urls,
        instance.policy,
        viewer,
        items,
        rejects_media=instance.blocks.rejects_media,
    )
    return status_entities(items, context)


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
