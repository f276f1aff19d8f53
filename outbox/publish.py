"""The transactional outbox: the change, the activity and its deliveries commit together.

Callers add their domain rows to the session, call `publish`, and commit once.
Recipients are expanded here and de-duplicated by shared inbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.proof_keys import signed_by
from federation.db import utcnow
from federation.urls import LocalUrls, host_of
from federation.vocab import PUBLIC_ALIASES, is_public
from objects.convert import first_id, id_list
from outbox.models import Delivery, OutboxActivity
from outbox.supersede import cancel_superseded

ADDRESS_FIELDS = ("to", "cc", "bto", "bcc", "audience")


async def publish(
    session: AsyncSession,
    urls: LocalUrls,
    actor: Actor,
    activity: dict[str, Any],
    *,
    also_inboxes: Iterable[str] = (),
) -> OutboxActivity:
    """Store the activity and one delivery row per remote inbox; the caller commits."""
    addresses = [a for field in ADDRESS_FIELDS for a in id_list(activity.get(field))]
    row = OutboxActivity(
        uri=activity["id"],
        actor_id=actor.id,
        type=activity["type"],
        object_uri=first_id(activity.get("object")),
        public=is_public(addresses),
        # Signed once, as stored: what every recipient gets, and what the outbox shows.
        payload=await signed_by(session, actor, _without_private_addressing(activity)),
    )
    session.add(row)
    await session.flush()
    inboxes = await recipient_inboxes(session, urls, actor, addresses)
    inboxes.update(i for i in also_inboxes if not urls.is_local(i))
    # Every outgoing activity passes here: a Delete or Undo cancels what it withdraws.
    inboxes = await cancel_superseded(session, row, inboxes)
    await _add_deliveries(session, row.id, inboxes)
    return row


async def recipient_inboxes(
    session: AsyncSession, urls: LocalUrls, actor: Actor, addresses: list[str]
) -> set[str]:
    """Remote inboxes for the addresses: our followers and known remote actors."""
    wanted = {a for a in addresses if a not in PUBLIC_ALIASES}
    inboxes: set[str] = set()
    if actor.followers_url and actor.followers_url in wanted:
        wanted.discard(actor.followers_url)
        inboxes.update(await _follower_inboxes(session, actor))
    remote = [a for a in wanted if not urls.is_local(a)]
    if remote:
        rows = await session.scalars(
            select(Actor).where(Actor.uri.in_(remote), Actor.deleted_at.is_(None))
        )
        inboxes.update(a.delivery_inbox for a in rows)
    return {i for i in inboxes if not urls.is_local(i)}


async def _follower_inboxes(session: AsyncSession, actor: Actor) -> set[str]:
    query = (
        select(Actor.inbox, Actor.shared_inbox)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(
            Follow.followee_id == actor.id,
            Follow.state == FOLLOW_ACCEPTED,
            Actor.local.is_(False),
            Actor.deleted_at.is_(None),
        )
    )
    return {shared or inbox for inbox, shared in (await session.execute(query)).all()}


async def _add_deliveries(session: AsyncSession, activity_id: int, inboxes: set[str]) -> None:
    if not inboxes:
        return
    now = utcnow()
    await session.execute(
        insert(Delivery),
        [
            {
                "activity_id": activity_id,
                "inbox_url": inbox,
                "host": host_of(inbox),
                "next_attempt_at": now,
                "created_at": now,
                "state": "pending",
                "attempts": 0,
            }
            for inbox in sorted(inboxes)
        ],
    )


def _without_private_addressing(activity: dict[str, Any]) -> dict[str, Any]:
    """bto/bcc are for delivery only and never shown (ActivityPub 6.1)."""
    return {k: v for k, v in activity.items() if k not in ("bto", "bcc")}
