"""Pinning: a person features some of their own notes on their profile.

Pins federate as Mastodon's do: the actor document names a `featured` collection (an
OrderedCollection of the pinned notes anyone may read), and pinning or unpinning sends an
`Add` or `Remove` of the note with that collection as `target` to the followers.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.errors import ValidationError
from federation.urls import LocalUrls
from federation.vocab import AS_CONTEXT
from objects.models import Note
from objects.pin_models import Pin
from objects.visibility import shown_to_all
from outbox.publish import publish

MAX_PINS = 5


def featured_url(actor: Actor) -> str:
    return f"{actor.uri}/collections/featured"


async def pin(session: AsyncSession, urls: LocalUrls, me: Actor, note: Note) -> None:
    """Feature one's own note (pinning it again changes nothing); the caller commits."""
    if note.actor_id != me.id or note.deleted_at is not None:
        raise ValidationError("you can only pin your own statuses")
    if note.visibility == "direct":
        raise ValidationError("a direct status cannot be pinned")
    if await is_pinned(session, me, note):
        return
    pinned = await session.scalar(select(func.count()).where(Pin.actor_id == me.id))
    if (pinned or 0) >= MAX_PINS:
        raise ValidationError(
            f"you have already pinned the maximum number of statuses ({MAX_PINS}); unpin one first"
        )
    session.add(Pin(actor_id=me.id, note_id=note.id))
    await session.flush()
    await publish(session, urls, me, _activity(urls, me, "Add", note))


async def unpin(session: AsyncSession, urls: LocalUrls, me: Actor, note: Note) -> None:
    """Stop featuring the note (nothing happens if it was not pinned); the caller commits."""
    if not await is_pinned(session, me, note):
        return
    await session.execute(delete(Pin).where(Pin.actor_id == me.id, Pin.note_id == note.id))
    await publish(session, urls, me, _activity(urls, me, "Remove", note))


async def is_pinned(session: AsyncSession, actor: Actor, note: Note) -> bool:
    found = await session.scalar(
        select(Pin.id).where(Pin.actor_id == actor.id, Pin.note_id == note.id)
    )
    return found is not None


async def featured_notes(session: AsyncSession, actor: Actor) -> list[Note]:
    """The actor's pinned notes anyone may read, latest pin first (the collection)."""
    rows = await session.scalars(
        select(Note)
        .join(Pin, Pin.note_id == Note.id)
        .where(Pin.actor_id == actor.id, Note.deleted_at.is_(None))
        .order_by(Pin.id.desc())
    )
    return [note for note in rows if shown_to_all(note)]


def _activity(urls: LocalUrls, me: Actor, kind: str, note: Note) -> dict[str, object]:
    return {
        "@context": AS_CONTEXT,
        "id": urls.new_activity(),
        "type": kind,
        "actor": me.uri,
        "object": note.uri,
        "target": featured_url(me),
        "to": [me.followers_url or me.uri],
    }
