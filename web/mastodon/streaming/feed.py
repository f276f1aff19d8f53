"""What the streaming hub publishes: new statuses, boosts and notifications, found in the
database.

While anyone is subscribed, the feed reads the notes, design versions and notifications
committed since its last look (by row id), works out which channels carry each one, and
renders only those somebody listens to, each page of statuses in one batch.

It reads the database rather than being told by the code that writes, so that it sees what
any process committed: with `serve --no-workers` and a separate `worker`, the worker's
inbox writes reach the web process's subscribers too. A commit in this process wakes it at
once (`StreamHub.wake`), and so does another process's on PostgreSQL (LISTEN/NOTIFY,
federation.notify); otherwise it looks every POLL_SECONDS (SAFETY_POLL_SECONDS while the
notices arrive).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import visible
from actors.service import actors_by_id
from objects.design_models import DesignVersion, Project, ProjectMaintainer
from objects.filters import active_filters_of, hides_in
from objects.hiding import hiders_of
from objects.models import Interaction, Note, NoteEdit, Notification
from objects.search import Item
from objects.visibility import boost_shown
from web.instance import Instance
from web.mastodon.entity_lists import entities
from web.mastodon.filtering import status_text
from web.mastodon.notification_entities import notification_entities
from web.mastodon.streaming.audience import (
    followers_streaming,
    note_channels,
    publish_to,
    readers_streaming,
)
from web.streaming import (
    HASHTAG,
    HASHTAG_LOCAL,
    NOTIFICATION,
    PUBLIC,
    PUBLIC_LOCAL,
    PUBLIC_REMOTE,
    STATUS_UPDATE,
    UPDATE,
    USER,
    Channel,
    Feed,
    StreamHub,
)

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
SAFETY_POLL_SECONDS = 5.0
BATCH = 200


@dataclass
class Cursor:
    """The last row of each kind already looked at."""

    note: int
    version: int
    notification: int
    boost: int = 0
    edit: int = 0
    # A query found a full batch: there is more to publish without waiting for a wake-up.
    behind: bool = False


@dataclass(frozen=True)
class Placed:
    """A new status and the channels that carry it."""

    item: Item
    channels: list[Channel]
    author_id: int  # a note's author, a version's project account


def feed_of(instance: Instance) -> Feed:
    """The feed to start for the instance's hub (see `StreamHub.subscribe`)."""

    async def feed(hub: StreamHub) -> None:
        await feed_forever(instance, hub)

    return feed


async def feed_forever(instance: Instance, hub: StreamHub) -> None:
    async with instance.sessions() as session:
        cursor = await _latest(session)
    hub.feeding.set()
    while hub.subscribers:
        if not cursor.behind:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    hub.wakeup.wait(), hub.poll_seconds(POLL_SECONDS, SAFETY_POLL_SECONDS)
                )
        hub.wakeup.clear()
        cursor.behind = False
        try:
            await publish_new(instance, hub, cursor)
        except Exception:
            log.exception("streaming: could not publish new statuses; trying again")


async def _latest(session: AsyncSession) -> Cursor:
    return Cursor(
        note=await session.scalar(select(func.max(Note.id))) or 0,
        version=await session.scalar(select(func.max(DesignVersion.id))) or 0,
        notification=await session.scalar(select(func.max(Notification.id))) or 0,
        boost=await session.scalar(select(func.max(Interaction.id))) or 0,
        edit=await session.scalar(select(func.max(NoteEdit.id))) or 0,
    )


async def publish_new(instance: Instance, hub: StreamHub, cursor: Cursor) -> None:
    """Publish what was committed since `cursor`, and move it on."""
    async with instance.sessions() as session:
        placed = await _new_notes(session, hub, cursor) + await _new_versions(session, hub, cursor)
        wanted = [each for each in placed if any(map(hub.listens, each.channels))]
        if wanted:
            built = await entities(session, instance, None, [each.item for each in wanted])
            # Nobody's stream carries a status of an account they hide, nor one their `hide`
            # filters leave out of that stream's timeline (home for the user stream).
            readers = hub.user_ids()
            hiders = await hiders_of(session, {each.author_id for each in wanted}, readers)
            filters = await active_filters_of(session, readers)
            for each, entity in zip(wanted, built, strict=True):
                payload, text = json.dumps(entity), status_text(entity)
                for channel in dict.fromkeys(each.channels):
                    context = "home" if channel[0] == USER else "public"
                    filtered = {r for r, f in filters.items() if hides_in(f, context, text)}
                    skipped = hiders[each.author_id] | filtered
                    hub.publish(channel, UPDATE, payload, not_to=skipped)
        await _new_boosts(session, instance, hub, cursor)
        await _new_edits(session, instance, hub, cursor)
        await _new_notifications(session, instance, hub, cursor)


async def _new_edits(
    session: AsyncSession, instance: Instance, hub: StreamHub, cursor: Cursor
) -> None:
    """Edited notes (each edit keeps a `NoteEdit`), sent whole as `status.update` on the
    streams that carried them."""
    edits = (
        await session.execute(
            select(NoteEdit.id, NoteEdit.note_uri)
            .where(NoteEdit.id > cursor.edit)
            .order_by(NoteEdit.id)
            .limit(BATCH)
        )
    ).all()
    if not edits:
        return
    cursor.edit, cursor.behind = edits[-1][0], cursor.behind or len(edits) == BATCH
    rows = (
        await session.execute(
            select(Note, Actor.silenced_at)
            .join(Actor, Actor.id == Note.actor_id)
            .where(Note.uri.in_({uri for _, uri in edits}), Note.deleted_at.is_(None), visible())
        )
    ).all()
    followers = await followers_streaming(session, hub, {note.actor_id for note, _ in rows})
    hiders = await hiders_of(session, {note.actor_id for note, _ in rows}, hub.user_ids())
    for note, silenced in rows:
        channels = note_channels(note, silenced is None, followers[note.actor_id])
        if any(map(hub.listens, channels)):
            for entity in await entities(session, instance, None, [note]):
                payload = json.dumps(entity)
                publish_to(hub, channels, STATUS_UPDATE, payload, not_to=hiders[note.actor_id])


async def _new_boosts(
    session: AsyncSession, instance: Instance, hub: StreamHub, cursor: Cursor
) -> None:
    """Boosts, as Mastodon streams reblogs: on the user streams of the booster and of its
    followers (a boost whose original is gone or hidden is left out by `entities`)."""
    rows = list(
        await session.scalars(
            select(Interaction)
            .join(Actor, Actor.id == Interaction.actor_id)
            .where(Interaction.id > cursor.boost, boost_shown(), visible())
            .order_by(Interaction.id)
            .limit(BATCH)
        )
    )
    if not rows:
        return
    cursor.boost, cursor.behind = rows[-1].id, cursor.behind or len(rows) == BATCH
    followers = await followers_streaming(session, hub, {boost.actor_id for boost in rows})
    # Nobody is streamed a boost by an account they hide (objects.hiding), as in home.
    hiders = await hiders_of(session, {boost.actor_id for boost in rows}, hub.user_ids())
    for boost in rows:
        channels: list[Channel] = [(USER, boost.actor_id)]
        channels += [(USER, reader) for reader in followers[boost.actor_id]]
        if not any(map(hub.listens, channels)):
            continue
        for entity in await entities(session, instance, None, [boost]):
            publish_to(hub, channels, UPDATE, json.dumps(entity), not_to=hiders[boost.actor_id])


async def _new_notes(session: AsyncSession, hub: StreamHub, cursor: Cursor) -> list[Placed]:
    rows = (
        await session.execute(
            select(Note, Actor.silenced_at)
            .join(Actor, Actor.id == Note.actor_id)
            .where(Note.id > cursor.note, Note.deleted_at.is_(None), visible())
            .order_by(Note.id)
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return []
    cursor.note, cursor.behind = rows[-1][0].id, cursor.behind or len(rows) == BATCH
    notes = [note for note, _ in rows]
    followers = await followers_streaming(session, hub, {note.actor_id for note in notes})
    return [
        Placed(note, note_channels(note, silenced is None, followers[note.actor_id]), note.actor_id)
        for note, silenced in rows
    ]


async def _new_versions(session: AsyncSession, hub: StreamHub, cursor: Cursor) -> list[Placed]:
    rows = (
        await session.execute(
            select(DesignVersion, Project.actor_id, Actor.silenced_at)
            .join(Project, Project.id == DesignVersion.project_id)
            .join(Actor, Actor.id == Project.actor_id)
            .where(DesignVersion.id > cursor.version, DesignVersion.deleted_at.is_(None), visible())
            .order_by(DesignVersion.id)
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return []
    cursor.version, cursor.behind = rows[-1][0].id, cursor.behind or len(rows) == BATCH
    followers = await followers_streaming(session, hub, {actor_id for _, actor_id, _ in rows})
    maintainers = await _maintainers(session, hub, {version.project_id for version, _, _ in rows})
    return [
        Placed(
            version,
            version_channels(
                version, silenced is None, followers[actor_id] + maintainers[version.project_id]
            ),
            actor_id,
        )
        for version, actor_id, silenced in rows
    ]


def version_channels(version: DesignVersion, listed: bool, readers: list[int]) -> list[Channel]:
    """The user streams of the project's followers and maintainers; every design version of
    a listed project is public, also on the streams of its tags."""
    channels: list[Channel] = [(USER, reader) for reader in readers]
    if listed:
        channels += [(PUBLIC,), (PUBLIC_LOCAL if version.local else PUBLIC_REMOTE,)]
        for tag in version.tags.get("tags", []):
            channels.append((HASHTAG, str(tag).lower()))
            if version.local:
                channels.append((HASHTAG_LOCAL, str(tag).lower()))
    return channels


async def _maintainers(
    session: AsyncSession, hub: StreamHub, project_ids: set[int]
) -> defaultdict[int, list[int]]:
    return await readers_streaming(
        session, hub, ProjectMaintainer.project_id, ProjectMaintainer.actor_id, project_ids
    )


async def _new_notifications(
    session: AsyncSession, instance: Instance, hub: StreamHub, cursor: Cursor
) -> None:
    rows = list(
        await session.scalars(
            select(Notification)
            .where(Notification.id > cursor.notification)
            .order_by(Notification.id)
            .limit(BATCH)
        )
    )
    if not rows:
        return
    cursor.notification, cursor.behind = rows[-1].id, cursor.behind or len(rows) == BATCH
    readers = hub.user_ids()
    by_recipient: defaultdict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        if row.recipient_id in readers:
            by_recipient[row.recipient_id].append(row)
    recipients = await actors_by_id(session, by_recipient)
    for recipient_id, mine in by_recipient.items():
        me = recipients.get(recipient_id)
        if me is None:
            continue
        for entity in await notification_entities(session, instance, me, mine):
            hub.publish((USER, recipient_id), NOTIFICATION, json.dumps(entity))
