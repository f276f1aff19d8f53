"""A local cooperative's or nonprofit's maker space: saved in its actor document and sent to
its followers as an `Update` of the actor, in the caller's transaction (the caller commits,
then wakes delivery). Listing the known ones, nearest first, reads local and remote actors
alike: a remote actor's `makerSpace` is kept from its document whenever it is fetched or
updated (`actors.convert.apply_remote_actor`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.convert import actor_to_as
from actors.maker_space import (
    MAKER_KINDS,
    MakerSpace,
    Needs,
    maker_space_of,
    may_publish_maker_space,
    set_maker_space,
)
from actors.models import Actor
from federation.errors import FederationError
from federation.urls import LocalUrls
from outbox import activities
from outbox.publish import publish

# Read at most this many candidate actors per search; a first slice, see docs/API.md.
MAX_CANDIDATES = 5000


async def save_maker_space(
    session: AsyncSession, urls: LocalUrls, actor_id: int, space: MakerSpace | None
) -> Actor:
    actor = await session.get(Actor, actor_id)
    assert actor is not None
    if not may_publish_maker_space(actor):
        raise FederationError(
            "only cooperatives and nonprofits publish a maker space; your profile says you are"
            f" {actor.entity_kind!r} (change it in your profile if that is wrong)",
            status=403,
        )
    set_maker_space(actor, space)
    await session.flush()
    await publish(
        session, urls, actor, activities.update_actor(urls, actor, actor_to_as(actor, urls))
    )
    return actor


@dataclass(frozen=True)
class Nearby:
    actor: Actor
    space: MakerSpace
    distance: int


async def maker_spaces_near(
    session: AsyncSession,
    *,
    needs: Needs | None,
    town: str,
    region: str,
    country: str,
    orders_only: bool,
    may_sell: Callable[[Actor], bool] | None = None,
    limit: int = 50,
) -> list[Nearby]:
    """The maker spaces we know that can make it, nearest first (town, region, country),
    then those that take orders, then by name. With `may_sell` (for an order: whether the
    design's licence lets this maker space sell a make of it), those it allows come first."""
    candidates = await session.scalars(
        select(Actor)
        .where(
            or_(Actor.entity_kind.in_(MAKER_KINDS), Actor.type == "Organization"),
            Actor.suspended_at.is_(None),
            Actor.deleted_at.is_(None),
        )
        .order_by(Actor.id)
        .limit(MAX_CANDIDATES)
    )
    found = []
    for actor in candidates:
        space = maker_space_of(actor)
        if space is None or (needs is not None and not needs.met_by(space)):
            continue
        if orders_only and not space.takes_orders:
            continue
        found.append(Nearby(actor, space, space.distance(town, region, country)))
    found.sort(
        key=lambda n: (
            may_sell is not None and not may_sell(n.actor),
            n.distance,
            not n.space.takes_orders,
            n.actor.name.casefold(),
        )
    )
    return found[:limit]
