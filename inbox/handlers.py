"""One handler per activity type. Each runs inside the worker's transaction.

Handlers trust what `inbox.receive` checked (signer is the actor, ids on its
host) and check ownership of the rows they change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.convert import apply_remote_actor, parse_remote_actor
from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, Actor, Follow
from actors.relation_models import AccountBlock
from federation.db import utcnow
from federation.urls import host_of
from federation.vocab import ACTOR_TYPES
from inbox.context import HandlerContext
from inbox.design_handlers import on_delete_design
from inbox.make_handlers import on_create_make
from inbox.moderation_handlers import on_flag
from inbox.poll_handlers import is_vote, on_question, on_vote
from objects.convert import NOTE_TYPES, first_id, parse_remote_note
from objects.design_convert import is_design
from objects.hiding import blocks_between
from objects.makes import is_make
from objects.models import ANNOUNCE, LIKE, Note
from objects.notes import (
    add_interaction,
    edit_note,
    get_note,
    remove_interaction,
    tombstone_note,
)
from objects.notifications import follow_kind, notify
from objects.pins import add_remote_pin, remove_remote_pin
from outbox import activities
from outbox.comments import store_received_note
from outbox.publish import publish
from outbox.relations import BLOCKED_REASON, blocked_by_remote

Handler = Callable[[HandlerContext, AsyncSession, dict[str, Any], Actor], Awaitable[None]]


async def on_follow(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    target_uri = first_id(activity.get("object"))
    target = await session.scalar(
        select(Actor).where(
            Actor.uri == target_uri, Actor.local.is_(True), Actor.deleted_at.is_(None)
        )
    )
    if target is None:
        return
    if await blocks_between(session, actor.id, target.id):
        # As on Mastodon: a follow between accounts one of which blocks the other is refused.
        reject = activities.reject(ctx.urls, target, _bare(activity), BLOCKED_REASON)
        await publish(session, ctx.urls, target, reject)
        return
    follow = await session.scalar(
        select(Follow).where(Follow.follower_id == actor.id, Follow.followee_id == target.id)
    )
    if follow is None:
        follow = Follow(follower_id=actor.id, followee_id=target.id, uri=activity["id"])
        follow.state = FOLLOW_PENDING if target.manually_approves_followers else FOLLOW_ACCEPTED
        session.add(follow)
        await notify(session, target, follow_kind(follow.state), actor)
    follow.uri = activity["id"]
    if follow.state == FOLLOW_ACCEPTED:
        await publish(
            session, ctx.urls, target, activities.accept(ctx.urls, target, _bare(activity))
        )


async def on_undo(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    inner = activity.get("object")
    inner_id = first_id(inner)
    if inner_id is None:
        return
    await session.execute(
        delete(Follow).where(Follow.uri == inner_id, Follow.follower_id == actor.id)
    )
    await session.execute(
        delete(AccountBlock).where(AccountBlock.uri == inner_id, AccountBlock.actor_id == actor.id)
    )
    if isinstance(inner, dict) and inner.get("type") == "Follow":
        target = await session.scalar(
            select(Actor.id).where(Actor.uri == first_id(inner.get("object")))
        )
        await session.execute(
            delete(Follow).where(Follow.follower_id == actor.id, Follow.followee_id == target)
        )
    await remove_interaction(session, inner_id, actor)


async def on_block(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    """A remote actor blocks one of ours (Mastodon sends it to the blocked account)."""
    target = await session.scalar(
        select(Actor).where(Actor.uri == first_id(activity.get("object")), Actor.local.is_(True))
    )
    if target is not None:
        await blocked_by_remote(session, actor, target, activity["id"])


async def on_accept(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    follow = await _our_follow_of(session, activity, actor)
    if follow is not None:
        follow.state = FOLLOW_ACCEPTED


async def on_reject(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    follow = await _our_follow_of(session, activity, actor)
    if follow is not None:
        await session.delete(follow)


async def _our_follow_of(
    session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> Follow | None:
    """The local actor's Follow of `actor` that this Accept/Reject answers."""
    inner = activity.get("object")
    follow_uri = first_id(inner)
    follower_uri = first_id(inner.get("actor")) if isinstance(inner, dict) else None
    follower = select(Actor.id).where(Actor.uri == follower_uri, Actor.local.is_(True))
    return await session.scalar(
        select(Follow).where(
            Follow.followee_id == actor.id,
            or_(Follow.uri == follow_uri, Follow.follower_id.in_(follower.scalar_subquery())),
        )
    )


async def on_create(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    obj = activity.get("object")
    if isinstance(obj, str):
        # The worker fetched objects sent by reference before its transaction; one still a
        # reference is a design, stored only as the inbox checked it (see DesignGate).
        return
    if is_design(obj):
        return  # stored only as admitted: see `InboxWorker._handle`
    if is_make(obj):
        await on_create_make(ctx, session, obj, actor)
        return
    if not isinstance(obj, dict) or obj.get("type") not in NOTE_TYPES:
        return
    if is_vote(obj) and await on_vote(ctx, session, obj, actor):
        return
    data = parse_remote_note(obj)
    if data.attributed_to == actor.uri:
        await store_received_note(session, ctx.urls, data, actor)
        await on_question(session, obj)


async def on_update(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return
    if obj.get("type") in ACTOR_TYPES and obj.get("id") == actor.uri:
        data = parse_remote_actor(obj)
        ctx.resolver.forget(actor.uri)
        if data.public_key_id == actor.public_key_id or data.public_key_pem == actor.public_key_pem:
            apply_remote_actor(actor, data)
        return
    if is_design(obj):
        return  # changed only as admitted: see `InboxWorker._handle`
    if obj.get("type") in NOTE_TYPES:
        # Only the note's author edits it: the signer (`actor`) must be the author we stored
        # and the one the new version names.
        edited = parse_remote_note(obj)
        note = await get_note(session, edited.uri)
        if note is None or note.actor_id != actor.id or edited.attributed_to != actor.uri:
            return
        if note.deleted_at is None:
            await edit_note(session, note, edited)
            await on_question(session, obj)


async def on_delete(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    object_id = first_id(activity.get("object"))
    if object_id == actor.uri:
        ctx.resolver.forget(actor.uri)
        actor.deleted_at = utcnow()
        await session.execute(
            delete(Follow).where(
                or_(Follow.follower_id == actor.id, Follow.followee_id == actor.id)
            )
        )
        return
    if await on_delete_design(session, object_id or "", actor):
        return
    note = await get_note(session, object_id or "")
    if note is not None and note.actor_id == actor.id:
        await tombstone_note(session, note)


async def on_like(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    await _interaction(ctx, session, LIKE, activity, actor)


async def on_announce(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    await _interaction(ctx, session, ANNOUNCE, activity, actor)


async def _interaction(
    ctx: HandlerContext,
    session: AsyncSession,
    kind: str,
    activity: dict[str, Any],
    actor: Actor,
) -> None:
    object_uri = first_id(activity.get("object"))
    if object_uri is not None:
        await add_interaction(session, kind, activity["id"], actor, object_uri, ctx.urls.is_local)


async def on_add(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    """Mastodon's pin: an `Add` of one's own note to one's featured collection."""
    note = await _featured_note(session, activity, actor)
    if note is not None:
        await add_remote_pin(session, actor, note)


async def on_remove(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    note = await _featured_note(session, activity, actor)
    if note is not None:
        await remove_remote_pin(session, actor, note)


async def _featured_note(
    session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> Note | None:
    """The actor's own known note that the activity adds to or removes from a collection
    of the actor's own host (its featured collection); None for anything else."""
    target = first_id(activity.get("target"))
    if not target or host_of(target) != host_of(actor.uri):
        return None
    note = await get_note(session, first_id(activity.get("object")) or "")
    if note is None or note.actor_id != actor.id or note.deleted_at is not None:
        return None
    return note


def _bare(activity: dict[str, Any]) -> dict[str, Any]:
    # Without its context its proof no longer holds: the embedding activity's proof speaks.
    return {k: v for k, v in activity.items() if k not in ("@context", "proof")}


HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Undo": on_undo,
    "Block": on_block,
    "Accept": on_accept,
    "Reject": on_reject,
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
    "Like": on_like,
    "Announce": on_announce,
    "Flag": on_flag,
    "Add": on_add,
    "Remove": on_remove,
}
