"""A person's blocks, mutes and domain blocks: the changes, and what they send.

As on Mastodon: a block ends the follows both ways, removes the blocked account from the
person's lists and is sent to a remote account as a `Block` (withdrawn by an `Undo`); a
mute is private and sends nothing; blocking a domain withdraws the person's follows of its
accounts (`Undo`) and turns its accounts' follows of them away (`Reject`). What is hidden
afterwards is `objects.hiding`'s rule. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor, Follow
from actors.relation_models import (
    AccountBlock,
    AccountList,
    AccountMute,
    ListMember,
    PersonDomainBlock,
)
from federation.urls import LocalUrls
from outbox import activities
from outbox.c2s import undo_sent
from outbox.models import OutboxActivity
from outbox.publish import publish

BLOCKED_REASON = "blocked"


async def block(session: AsyncSession, urls: LocalUrls, me: Actor, target: Actor) -> None:
    """`me` blocks `target` (again: nothing changes)."""
    found = await session.scalar(
        select(AccountBlock.id).where(
            AccountBlock.actor_id == me.id, AccountBlock.target_id == target.id
        )
    )
    if found is not None:
        return
    await _end_follows(session, urls, me, [target], reject=False)
    mine = select(AccountList.id).where(AccountList.actor_id == me.id)
    await session.execute(
        delete(ListMember).where(ListMember.list_id.in_(mine), ListMember.target_id == target.id)
    )
    activity = activities.block(urls, me, target)
    session.add(AccountBlock(actor_id=me.id, target_id=target.id, uri=activity["id"]))
    await publish(session, urls, me, activity)


async def unblock(session: AsyncSession, urls: LocalUrls, me: Actor, target: Actor) -> None:
    """`me` lifts a block of `target`, sending an `Undo` of the `Block` it sent."""
    row = await session.scalar(
        select(AccountBlock).where(
            AccountBlock.actor_id == me.id, AccountBlock.target_id == target.id
        )
    )
    if row is None:
        return
    sent = await _sent(session, me, row.uri)
    await session.delete(row)
    if sent is not None:
        await publish(session, urls, me, activities.undo(urls, me, sent.payload))


async def mute(
    session: AsyncSession,
    me: Actor,
    target: Actor,
    *,
    notifications: bool,
    expires_at: dt.datetime | None,
) -> None:
    """`me` mutes `target` (again: with the new terms)."""
    row = await session.scalar(
        select(AccountMute).where(AccountMute.actor_id == me.id, AccountMute.target_id == target.id)
    )
    if row is None:
        row = AccountMute(actor_id=me.id, target_id=target.id)
        session.add(row)
    row.notifications = notifications
    row.expires_at = expires_at


async def unmute(session: AsyncSession, me: Actor, target: Actor) -> None:
    await session.execute(
        delete(AccountMute).where(AccountMute.actor_id == me.id, AccountMute.target_id == target.id)
    )


async def block_domain(session: AsyncSession, urls: LocalUrls, me: Actor, domain: str) -> None:
    """`me` hides `domain` and ends the follows between them and its accounts."""
    found = await session.scalar(
        select(PersonDomainBlock.id).where(
            PersonDomainBlock.actor_id == me.id, PersonDomainBlock.domain == domain
        )
    )
    if found is not None:
        return
    session.add(PersonDomainBlock(actor_id=me.id, domain=domain))
    others = list(await session.scalars(select(Actor).where(Actor.domain == domain)))
    await _end_follows(session, urls, me, others, reject=True)


async def unblock_domain(session: AsyncSession, me: Actor, domain: str) -> None:
    await session.execute(
        delete(PersonDomainBlock).where(
            PersonDomainBlock.actor_id == me.id, PersonDomainBlock.domain == domain
        )
    )


async def blocked_by_remote(session: AsyncSession, actor: Actor, target: Actor, uri: str) -> None:
    """A remote actor's `Block` of a local one: their follows end both ways, and the block
    is kept so that nothing of theirs reaches the person they block."""
    await session.execute(
        delete(Follow).where(
            ((Follow.follower_id == actor.id) & (Follow.followee_id == target.id))
            | ((Follow.follower_id == target.id) & (Follow.followee_id == actor.id))
        )
    )
    found = await session.scalar(
        select(AccountBlock).where(
            AccountBlock.actor_id == actor.id, AccountBlock.target_id == target.id
        )
    )
    if found is None:
        session.add(AccountBlock(actor_id=actor.id, target_id=target.id, uri=uri))


async def _end_follows(
    session: AsyncSession, urls: LocalUrls, me: Actor, others: Sequence[Actor], *, reject: bool
) -> None:
    """End the follows between `me` and `others`, both ways: theirs of `me` is turned away
    with a `Reject` when `reject` (a `Block` already tells them otherwise), and `me`'s is
    withdrawn with an `Undo` when it went out through our outbox."""
    if not others:
        return
    by_id = {other.id: other for other in others}
    follows = list(
        await session.scalars(
            select(Follow).where(
                ((Follow.follower_id == me.id) & Follow.followee_id.in_(by_id))
                | (Follow.follower_id.in_(by_id) & (Follow.followee_id == me.id))
            )
        )
    )
    for follow in follows:
        if follow.follower_id == me.id:
            sent = await _sent(session, me, follow.uri)
            if sent is not None:
                await undo_sent(session, urls, me, sent)
                continue
        elif reject and not by_id[follow.follower_id].local:
            follower = by_id[follow.follower_id]
            their_follow = {"id": follow.uri, "type": "Follow", "actor": follower.uri}
            their_follow["object"] = me.uri
            await publish(
                session, urls, me, activities.reject(urls, me, their_follow, BLOCKED_REASON)
            )
        await session.delete(follow)


async def _sent(session: AsyncSession, me: Actor, uri: str) -> OutboxActivity | None:
    """The activity `me` sent through our outbox with this id, which an Undo needs."""
    sent: OutboxActivity | None = await session.scalar(
        select(OutboxActivity).where(OutboxActivity.uri == uri, OutboxActivity.actor_id == me.id)
    )
    return sent
