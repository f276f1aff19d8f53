"""A locked person answers the follow requests waiting for them: authorize or reject.

The follow row changes (accepted, or deleted) in the same transaction as the `Accept` or
`Reject` that tells a remote follower's server, so a follower is never accepted here and
left pending there. A local follower needs no activity: the row is the whole follow.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, Actor, Follow
from actors.moderation import visible
from federation.errors import ValidationError
from federation.urls import LocalUrls
from objects.models import Notification
from objects.notifications import FOLLOW, FOLLOW_REQUEST
from outbox import activities
from outbox.publish import publish


def waiting_followers(me: Actor) -> Select[int, Actor]:
    """(follow id, follower) of the requests waiting for `me`, for the caller to page."""
    return (
        select(Follow.id, Actor)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followee_id == me.id, Follow.state == FOLLOW_PENDING, visible())
    )


async def authorize(session: AsyncSession, urls: LocalUrls, me: Actor, follower_id: int) -> Actor:
    """Accept `follower_id`'s waiting request; the caller commits."""
    follow, follower = await _waiting(session, me, follower_id)
    follow.state = FOLLOW_ACCEPTED
    # The request the person was told about is now a follower, as Mastodon shows it.
    await session.execute(
        update(Notification)
        .where(*_request_notice(me, follower))
        .values(kind=FOLLOW)
        .execution_options(synchronize_session=False)
    )
    if not follower.local:
        await publish(
            session, urls, me, activities.accept(urls, me, _follow_of(follow, follower, me))
        )
    return follower


async def reject(session: AsyncSession, urls: LocalUrls, me: Actor, follower_id: int) -> Actor:
    """Refuse `follower_id`'s waiting request: it is removed; the caller commits."""
    follow, follower = await _waiting(session, me, follower_id)
    activity = _follow_of(follow, follower, me)
    await session.delete(follow)
    await session.execute(
        delete(Notification)
        .where(*_request_notice(me, follower))
        .execution_options(synchronize_session=False)
    )
    if not follower.local:
        reason = f"{me.handle} did not accept the follow request"
        await publish(session, urls, me, activities.reject(urls, me, activity, reason))
    return follower


async def _waiting(session: AsyncSession, me: Actor, follower_id: int) -> tuple[Follow, Actor]:
    row = (
        await session.execute(
            select(Follow, Actor)
            .join(Actor, Actor.id == Follow.follower_id)
            .where(
                Follow.followee_id == me.id,
                Follow.follower_id == follower_id,
                Follow.state == FOLLOW_PENDING,
            )
        )
    ).first()
    if row is None:
        raise ValidationError(
            "there is no follow request from that account waiting for you; "
            "GET /api/v1/follow_requests lists those waiting",
            status=404,
        )
    return row[0], row[1]


def _follow_of(follow: Follow, follower: Actor, me: Actor) -> dict[str, str]:
    """The Follow being answered, as its sender's server knows it (its own id)."""
    return {"id": follow.uri, "type": "Follow", "actor": follower.uri, "object": me.uri}


def _request_notice(me: Actor, follower: Actor) -> tuple[ColumnElement[bool], ...]:
    return (
        Notification.recipient_id == me.id,
        Notification.from_actor_id == follower.id,
        Notification.kind == FOLLOW_REQUEST,
    )
