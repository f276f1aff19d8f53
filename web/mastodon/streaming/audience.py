"""Which streams carry a note, and telling them a note is gone.

Kept apart from `web.mastodon.streaming.feed` (which renders statuses with the route
modules' builders) so that the status routes can publish a delete without importing them
back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from objects.models import Note
from objects.visibility import on_public_timelines, reaches_followers
from web.instance import Instance
from web.streaming import DELETE, PUBLIC, PUBLIC_LOCAL, PUBLIC_REMOTE, USER, Channel, StreamHub


def publish_to(
    hub: StreamHub,
    channels: Iterable[Channel],
    event: str,
    payload: str,
    *,
    not_to: Collection[int] = (),
) -> None:
    for channel in dict.fromkeys(channels):
        hub.publish(channel, event, payload, not_to=not_to)


def note_channels(note: Note, listed: bool, followers: Iterable[int]) -> list[Channel]:
    """Its author's and (unless direct) their followers' user streams; public streams for a
    public note by a listed author. Notes keep no hashtags here yet."""
    channels: list[Channel] = [(USER, note.actor_id)] if note.local else []
    if reaches_followers(note):
        channels += [(USER, follower) for follower in followers]
    if listed and on_public_timelines(note):
        channels += [(PUBLIC,), (PUBLIC_LOCAL if note.local else PUBLIC_REMOTE,)]
    return channels


async def followers_streaming(
    session: AsyncSession, hub: StreamHub, followee_ids: set[int]
) -> defaultdict[int, list[int]]:
    """Each followee's followers among the people streaming now (only they matter)."""
    return await readers_streaming(
        session,
        hub,
        Follow.followee_id,
        Follow.follower_id,
        followee_ids,
        Follow.state == FOLLOW_ACCEPTED,
    )


async def readers_streaming(
    session: AsyncSession,
    hub: StreamHub,
    key: InstrumentedAttribute[int],
    reader: InstrumentedAttribute[int],
    keys: set[int],
    *where: ColumnElement[bool],
) -> defaultdict[int, list[int]]:
    """For each of `keys`, the readers streaming now whose rows link them to it (`key` and
    `reader` are the row's two columns, `where` any further conditions)."""
    found: defaultdict[int, list[int]] = defaultdict(list)
    readers = hub.user_ids()
    if not readers or not keys:
        return found
    rows = await session.execute(
        select(key, reader).where(key.in_(keys), reader.in_(readers), *where)
    )
    for key_id, reader_id in rows.all():
        found[key_id].append(reader_id)
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
