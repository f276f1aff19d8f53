"""Which streams carry a note, and telling them a note is gone.

Kept apart from `web.stream_feed` (which renders statuses with the route modules' builders)
so that the status routes can publish a delete without importing them back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from objects.models import Note
from web.instance import Instance
from web.streaming import DELETE, PUBLIC, PUBLIC_LOCAL, PUBLIC_REMOTE, USER, Channel, StreamHub


def publish_to(hub: StreamHub, channels: Iterable[Channel], event: str, payload: str) -> None:
    for channel in dict.fromkeys(channels):
        hub.publish(channel, event, payload)


def note_channels(note: Note, listed: bool, followers: Iterable[int]) -> list[Channel]:
    """Its author's and (unless direct) their followers' user streams; public streams for a
    public note by a listed author. Notes keep no hashtags here yet."""
    channels: list[Channel] = [(USER, note.actor_id)] if note.local else []
    if note.visibility != "direct":
        channels += [(USER, follower) for follower in followers]
    if listed and note.visibility == "public":
        channels += [(PUBLIC,), (PUBLIC_LOCAL if note.local else PUBLIC_REMOTE,)]
    return channels


async def followers_streaming(
    session: AsyncSession, hub: StreamHub, followee_ids: set[int]
) -> defaultdict[int, list[int]]:
    """Each followee's followers among the people streaming now (only they matter)."""
    found: defaultdict[int, list[int]] = defaultdict(list)
    readers = hub.user_ids()
    if not readers or not followee_ids:
        return found
    rows = await session.execute(
        select(Follow.followee_id, Follow.follower_id).where(
            Follow.followee_id.in_(followee_ids),
            Follow.follower_id.in_(readers),
            Follow.state == FOLLOW_ACCEPTED,
        )
    )
    for followee, follower in rows.all():
        found[followee].append(follower)
    return found


async def publish_delete(instance: Instance, note: Note) -> None:
    """Tell the streams that carried a note that it is gone (its author deleted it here)."""
    hub = instance.streaming
    if not hub.subscribers:
        return
    async with instance.sessions() as session:
        followers = await followers_streaming(session, hub, {note.actor_id})
        author = await session.get(Actor, note.actor_id)
    listed = author is not None and author.silenced_at is None
    publish_to(hub, note_channels(note, listed, followers[note.actor_id]), DELETE, str(note.id))
