"""Which notifications are pushed where: subscriptions, their alerts and policy, and the
push jobs queued in the transaction that makes the notification.

A subscription belongs to one access token (as in Mastodon: subscribing again replaces
it). Its `alerts` name the notification kinds it wants; its `policy` says from whom:
`all`, `followed` (people the recipient follows), `follower` (people who follow the
recipient) or `none`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, ApiToken, Follow
from federation.db import utcnow
from objects.models import Notification
from objects.push_models import PushJob, PushSubscription

# Mastodon's alert names (WebPushSubscription.alerts), in its order, and our own kind.
ALERTS = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "ourdesign.fork",
)
POLICIES = ("all", "followed", "follower", "none")


async def subscription_of(session: AsyncSession, token_id: int) -> PushSubscription | None:
    return await session.scalar(
        select(PushSubscription).where(PushSubscription.token_id == token_id)
    )


async def subscribe(
    session: AsyncSession,
    *,
    token_id: int,
    actor_id: int,
    endpoint: str,
    p256dh: str,
    auth: str,
    alerts: Sequence[str],
    policy: str,
) -> PushSubscription:
    """The token's new subscription, replacing any it had (the caller commits)."""
    await session.execute(delete(PushSubscription).where(PushSubscription.token_id == token_id))
    subscription = PushSubscription(
        token_id=token_id,
        actor_id=actor_id,
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
        alerts=" ".join(a for a in ALERTS if a in alerts),
        policy=policy,
        created_at=utcnow(),
    )
    session.add(subscription)
    await session.flush()
    return subscription


def alert_names(subscription: PushSubscription) -> set[str]:
    return set(subscription.alerts.split())


async def queue_pushes(session: AsyncSession, notifications: Sequence[Notification]) -> None:
    """Queue a push of each new notification to each subscription of its recipient that
    wants it, in the caller's transaction (nothing is written when nobody subscribed).

    Where a push is wanted the session is flushed, for the notifications' ids (the inbox
    batch then writes its rows one by one, not in one executemany: only for a batch that
    notifies a subscriber)."""
    if not notifications:
        return
    recipients = {n.recipient_id for n in notifications}
    with session.no_autoflush:
        subscriptions = list(
            await session.scalars(
                select(PushSubscription)
                .join(ApiToken, ApiToken.id == PushSubscription.token_id)
                .where(
                    PushSubscription.actor_id.in_(recipients),
                    PushSubscription.policy != "none",
                    ApiToken.revoked_at.is_(None),  # a revoked token's app is told nothing
                )
            )
        )
    if not subscriptions:
        return
    wanted = [
        (n, s)
        for n in notifications
        for s in subscriptions
        if s.actor_id == n.recipient_id and n.kind in alert_names(s)
    ]
    # With autoflush: a follow being notified about may not be written yet.
    wanted = [pair for pair in wanted if await _policy_allows(session, *pair)]
    if not wanted:
        return
    await session.flush()
    now = utcnow()
    for notification, subscription in wanted:
        session.add(
            PushJob(
                subscription_id=subscription.id,
                notification_id=notification.id,
                next_attempt_at=now,
                created_at=now,
            )
        )


async def _policy_allows(
    session: AsyncSession, notification: Notification, subscription: PushSubscription
) -> bool:
    if subscription.policy == "all":
        return True
    me, them = notification.recipient_id, notification.from_actor_id
    if subscription.policy == "followed":
        follower, followee = me, them
    elif subscription.policy == "follower":
        follower, followee = them, me
    else:
        return False
    found = await session.scalar(
        select(Follow.id).where(
            Follow.follower_id == follower,
            Follow.followee_id == followee,
            Follow.state == FOLLOW_ACCEPTED,
        )
    )
    return found is not None
