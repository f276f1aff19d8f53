"""Mastodon's Relationship entity for a list of accounts: follows both ways, blocks, mutes
and domain blocks, in a fixed number of queries. Route modules share it through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor, Follow
from actors.relation_models import AccountBlock, AccountMute, PersonDomainBlock
from federation.db import utcnow
from web.mastodon.entities import Standing, relationship_entity


async def relationship_json(session: AsyncSession, me: Actor, other_id: int) -> dict[str, Any]:
    return (await relationships_json(session, me, [other_id]))[0]


async def relationships_json(
    session: AsyncSession, me: Actor, other_ids: list[int]
) -> list[dict[str, Any]]:
    """The relationships with each of `other_ids`, in order."""
    if not other_ids:
        return []
    following = await _states(
        session,
        select(Follow.followee_id, Follow.state).where(
            Follow.follower_id == me.id, Follow.followee_id.in_(other_ids)
        ),
    )
    followed_by = await _states(
        session,
        select(Follow.follower_id, Follow.state).where(
            Follow.follower_id.in_(other_ids), Follow.followee_id == me.id
        ),
    )
    block_rows = await session.execute(
        select(AccountBlock.actor_id, AccountBlock.target_id).where(
            or_(
                (AccountBlock.actor_id == me.id) & AccountBlock.target_id.in_(other_ids),
                AccountBlock.actor_id.in_(other_ids) & (AccountBlock.target_id == me.id),
            )
        )
    )
    blocks = {(blocker, blocked) for blocker, blocked in block_rows}
    mute_rows = await session.execute(
        select(AccountMute.target_id, AccountMute.notifications).where(
            AccountMute.actor_id == me.id,
            AccountMute.target_id.in_(other_ids),
            or_(AccountMute.expires_at.is_(None), AccountMute.expires_at > utcnow()),
        )
    )
    mutes = {target: notifications for target, notifications in mute_rows}
    blocked_domains = set(
        await session.scalars(
            select(Actor.id)
            .join(PersonDomainBlock, PersonDomainBlock.domain == Actor.domain)
            .where(PersonDomainBlock.actor_id == me.id, Actor.id.in_(other_ids))
        )
    )
    return [
        relationship_entity(
            i,
            following=following.get(i),
            followed_by=followed_by.get(i),
            standing=Standing(
                blocking=(me.id, i) in blocks,
                blocked_by=(i, me.id) in blocks,
                muting=i in mutes,
                muting_notifications=mutes.get(i, False),
                domain_blocking=i in blocked_domains,
            ),
        )
        for i in other_ids
    ]


async def _states(session: AsyncSession, query: Select[int, str]) -> dict[int, str]:
    found: dict[int, str] = {}
    for other_id, state in await session.execute(query):
        found.setdefault(other_id, state)
    return found
