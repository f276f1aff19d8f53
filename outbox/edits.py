"""A local author's edit of a note (Mastodon's PUT /api/v1/statuses/:id): the version
before is kept for the history, the note changes, and an `Update` of it goes to everyone
who received it, in the same transaction (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.db import utcnow
from federation.errors import ValidationError
from federation.urls import LocalUrls
from objects.convert import media_to_as
from objects.hashtags import hashtag_objects, link_hashtags, reindex_hashtags, tags_in_text
from objects.media_models import MediaAttachment
from objects.models import Note
from objects.notes import keep_previous_version
from objects.notifications import notify_edit
from outbox import activities
from outbox.c2s import MAX_MEDIA
from outbox.models import OutboxActivity
from outbox.publish import publish

SOURCE = "source"  # the document key keeping the plain text the author wrote


@dataclass(frozen=True)
class NoteChange:
    """What an edit sets: the new text (as HTML and as written), the content warning, the
    media (None: unchanged) and the language."""

    html: str
    text: str
    spoiler: str | None
    sensitive: bool
    media_ids: Sequence[int] | None
    language: str | None


async def edit_local_note(
    session: AsyncSession, urls: LocalUrls, actor: Actor, note: Note, change: NoteChange
) -> OutboxActivity:
    """Apply the author's edit and send the `Update`; the caller commits."""
    if note.actor_id != actor.id or not note.local or note.deleted_at is not None:
        raise ValidationError("only its author can edit a status", status=404)
    keep_previous_version(session, note)
    note.content = link_hashtags(change.html, urls.base_url)
    note.summary = change.spoiler
    note.sensitive = change.sensitive or change.spoiler is not None
    note.language = change.language or note.language
    document = dict(note.document or {})
    document[SOURCE] = change.text
    if change.media_ids is not None:
        document["attachment"] = await _reattach(session, urls, actor, note, change.media_ids)
    # The edited text's hashtags replace the old ones, in the index and in the Update sent.
    names = tags_in_text(change.text)
    kept = [tag for tag in document.get("tag", []) if tag.get("type") != "Hashtag"]
    document["tag"] = [*kept, *hashtag_objects(names, urls.base_url)]
    await reindex_hashtags(session, note.uri, names)
    note.document = {key: value for key, value in document.items() if value}
    note.edited_at = utcnow()
    await notify_edit(session, note, actor)
    await session.flush()
    return await publish(session, urls, actor, activities.update_note(urls, actor, note))


async def _reattach(
    session: AsyncSession, urls: LocalUrls, actor: Actor, note: Note, media_ids: Sequence[int]
) -> list[dict[str, object]]:
    """The note's media become exactly `media_ids`, in that order: each one the author's own
    upload, unattached or already on this note. Those left out are let go (the history
    keeps how they were shown)."""
    wanted = list(dict.fromkeys(media_ids))
    if len(wanted) > MAX_MEDIA:
        raise ValidationError(f"a status can have at most {MAX_MEDIA} media attachments")
    await session.execute(
        update(MediaAttachment)
        .where(MediaAttachment.note_id == note.id, MediaAttachment.id.not_in(wanted))
        .values(note_id=None)
        .execution_options(synchronize_session=False)
    )
    if not wanted:
        return []
    positions = {media_id: place for place, media_id in enumerate(wanted)}
    claimed = await session.execute(
        update(MediaAttachment)
        .where(
            MediaAttachment.id.in_(wanted),
            MediaAttachment.account_id == actor.id,
            (MediaAttachment.note_id.is_(None)) | (MediaAttachment.note_id == note.id),
        )
        .values(note_id=note.id, position=case(positions, value=MediaAttachment.id))
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != len(wanted):
        raise ValidationError(
            "media_ids: each must be the id of one of your own uploads, not attached to "
            "another status"
        )
    rows = await session.scalars(
        select(MediaAttachment)
        .where(MediaAttachment.id.in_(wanted))
        .execution_options(populate_existing=True)
    )
    by_id = {row.id: row for row in rows}
    return [media_to_as(urls.base_url, by_id[media_id]) for media_id in wanted]


async def keep_source(session: AsyncSession, note_uri: str, text: str) -> None:
    """Keep the plain text a new note was written as, for its source when it is edited."""
    note = await session.scalar(select(Note).where(Note.uri == note_uri))
    if note is not None and text:
        note.document = {**(note.document or {}), SOURCE: text}
