"""Followers and following of a local actor, keyset-paged (newest first, no OFFSET)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, Actor, Follow


async def count_follows(session: AsyncSession, actor: Actor, *, followers: bool) -> int:
    side = Follow.followee_id if followers else Follow.follower_id
    query = (
        select(func.count())
        .select_from(Follow)
        .where(side == actor.id, Follow.state == FOLLOW_ACCEPTED)
    )
    return int(await session.scalar(query) or 0)


async def follows_page(
    session: AsyncSession, actor: Actor, *, followers: bool, before: int | None, limit: int
) -> list[tuple[int, str]]:
    """(follow id, actor uri) pairs; pass the last id as `before` for the next page."""
    side, other = (
        (Follow.followee_id, Follow.follower_id)
        if followers
        else (Follow.follower_id, Follow.followee_id)
    )
    query = (
        select(Follow.id, Actor.uri)
        .join(Actor, Actor.id == other)
        .where(side == actor.id, Follow.state == FOLLOW_ACCEPTED)
    )
    if before is not None:
        query = query.where(Follow.id < before)
    rows = await session.execute(query.order_by(Follow.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows.all()]
