"""Storing notes and interactions: the same code for local and remote ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import visible
from federation.db import is_postgres, utcnow
from objects.convert import RemoteNoteData
from objects.design_models import DesignVersion, Project
from objects.hashtags import hashtags_of, index_hashtags, reindex_hashtags
from objects.make_models import Make
from objects.models import ANNOUNCE, LIKE, Interaction, Note, NoteEdit
from objects.notifications import (
    IsLocal,
    LocalOwner,
    notify_edit,
    notify_interaction,
    notify_note,
)
from objects.visibility import readable_by, shown_to_all, visibility_of

_COUNTERS = {LIKE: Note.likes_count, ANNOUNCE: Note.announces_count}


# session.info key: notes looked up in advance (`adopt_notes`), by URI (None: not stored).
NOTES_BY_URI = "notes_by_uri"


async def get_note(session: AsyncSession, uri: str) -> Note | None:
    """The note with this URI, including one added in this session and not yet flushed.

    No autoflush: the inbox worker stores a batch of notes in one session, and flushing
    before every lookup would cost one INSERT round trip per note instead of one per batch.
    """
    for pending in session.new:
        if isinstance(pending, Note) and pending.uri == uri:
            return pending
    known = session.info.get(NOTES_BY_URI, {})
    if uri in known:
        return known[uri]  # type: ignore[no-any-return]
    with session.no_autoflush:
        return await session.scalar(select(Note).where(Note.uri == uri))


async def note_with_author(session: AsyncSession, uri: str) -> tuple[Note, Actor] | None:
    """The note at `uri` and who wrote it, deleted or not (its document and its page both
    answer 410 for a deleted one)."""
    row = (await session.execute(select(Note, Actor).join(Actor).where(Note.uri == uri))).first()
    return None if row is None else (row[0], row[1])


async def find_notes(session: AsyncSession, uris: set[str]) -> dict[str, Note | None]:
    """Many notes by URI in one query (None for those we do not have)."""
    if not uris:
        return {}
    with session.no_autoflush:
        found = {n.uri: n for n in await session.scalars(select(Note).where(Note.uri.in_(uris)))}
    return {uri: found.get(uri) for uri in uris}


def adopt_notes(session: AsyncSession, known: dict[str, Note | None]) -> None:
    """Let `get_note` answer from notes looked up in advance (perhaps by another session,
    whose objects join this one); notes added later are remembered by `_remember`."""
    session.add_all([note for note in known.values() if note is not None])
    session.info[NOTES_BY_URI] = dict(known)


def _remember(session: AsyncSession, note: Note) -> None:
    if NOTES_BY_URI in session.info:
        session.info[NOTES_BY_URI][note.uri] = note


async def store_remote_note(
    session: AsyncSession,
    data: RemoteNoteData,
    author: Actor,
    is_local: IsLocal | None = None,
) -> Note:
    """Insert a received note (or return the one we have) and thread it."""
    existing = await get_note(session, data.uri)
    if existing is not None:
        return existing
    return await insert_remote_note(session, data, author, is_local)


async def insert_remote_note(
    session: AsyncSession,
    data: RemoteNoteData,
    author: Actor,
    is_local: IsLocal | None = None,
) -> Note:
    """Insert a received note we know we do not have yet, and thread it (`is_local`: which
    addresses can be local people, to be told; None: any)."""
    note = Note(
        uri=data.uri,
        actor_id=author.id,
        local=False,
        url=data.url,
        in_reply_to=data.in_reply_to,
        content=data.content,
        summary=data.summary,
        sensitive=data.sensitive,
        language=data.language,
        visibility=visibility_of(data.to, data.cc, author.followers_url),
        to={"to": data.to, "cc": data.cc},
        published=data.published,
        document={"attachment": data.attachments} if data.attachments else None,
    )
    session.add(note)
    _remember(session, note)
    index_hashtags(session, note.uri, data.hashtags)
    parent = await _count_reply(session, note, +1)
    await notify_note(session, note, author, parent, is_local)
    return note


async def add_local_note(session: AsyncSession, note: Note) -> Note:
    session.add(note)
    _remember(session, note)
    index_hashtags(session, note.uri, hashtags_of((note.document or {}).get("tag")))
    parent = await _count_reply(session, note, +1)
    author = await session.get(Actor, note.actor_id)
    if author is not None:
        await notify_note(session, note, author, parent)
    return note


def keep_previous_version(session: AsyncSession, note: Note) -> None:
    """Before an edit, keep the note as it is, for its history (Mastodon's StatusEdit)."""
    attachments = (note.document or {}).get("attachment")
    session.add(
        NoteEdit(
            note_uri=note.uri,
            content=note.content,
            summary=note.summary,
            sensitive=note.sensitive,
            document={"attachment": attachments} if attachments else None,
            created_at=note.edited_at or note.published,
        )
    )


async def edit_note(session: AsyncSession, note: Note, data: RemoteNoteData) -> None:
    """A received edit of a remote note: the version before it is kept in its history. An
    Update that changes nothing shown (a poll's new counts) keeps no version."""
    attachments = (note.document or {}).get("attachment") or []
    unchanged = (note.content, note.summary, note.sensitive, attachments) == (
        data.content,
        data.summary,
        data.sensitive,
        data.attachments,
    )
    if unchanged:
        return
    keep_previous_version(session, note)
    await reindex_hashtags(session, note.uri, data.hashtags)
    note.content = data.content
    note.summary = data.summary
    note.sensitive = data.sensitive
    note.language = data.language or note.language
    document = {**(note.document or {}), "attachment": data.attachments}
    note.document = {key: value for key, value in document.items() if value}
    note.edited_at = utcnow()
    author = await session.get(Actor, note.actor_id)
    if author is not None:
        await notify_edit(session, note, author)


async def tombstone_note(session: AsyncSession, note: Note) -> None:
    if note.deleted_at is not None:
        return
    note.deleted_at = utcnow()
    note.content = ""
    note.summary = None
    # A deleted note keeps no earlier versions either.
    await session.execute(delete(NoteEdit).where(NoteEdit.note_uri == note.uri))
    await _count_reply(session, note, -1)
    await _uncount_make(session, note)


async def _uncount_make(session: AsyncSession, note: Note) -> None:
    """A deleted make is no longer listed (`objects.makes.makes_of`) nor counted."""
    if not (note.document or {}).get("makeOf"):
        return
    make = await session.scalar(select(Make).where(Make.note_id == note.id))
    if make is None:
        return
    for model, row_id in ((DesignVersion, make.version_id), (Project, make.project_id)):
        await session.execute(
            update(model)
            .where(model.id == row_id, model.makes_count > 0)
            .values(makes_count=model.makes_count - 1)
            .execution_options(synchronize_session=False)
        )


async def _count_reply(session: AsyncSession, reply: Note, delta: int) -> LocalOwner:
    """Count a reply on its parent: a note, or a design version (a comment on it).

    The count is public: only replies anyone may read are counted (`objects.visibility`),
    so that it tells nobody how many followers-only or direct replies there are.
    The UPDATEs return whose the parent is, when it is local: the notification for the
    reply then costs the inbox batch no query of its own."""
    parent_uri = reply.in_reply_to
    if not parent_uri:
        return LocalOwner()
    if not shown_to_all(reply):
        delta = 0
    note = await session.execute(
        update(Note)
        .where(Note.uri == parent_uri)
        .values(replies_count=Note.replies_count + delta)
        .returning(Note.actor_id, Note.local)
    )
    version = await session.execute(
        update(DesignVersion)
        .where(DesignVersion.uri == parent_uri)
        .values(replies_count=DesignVersion.replies_count + delta)
        .returning(DesignVersion.project_id, DesignVersion.local)
    )
    return _local_owner(note.first(), version.first())


def _local_owner(note: Any, version: Any) -> LocalOwner:
    """From (author id, local) of a note and (project id, local) of a version."""
    if note is not None and note[1]:
        return LocalOwner(author_id=note[0])
    if version is not None and version[1]:
        return LocalOwner(project_id=version[0])
    return LocalOwner()


async def add_interaction(
    session: AsyncSession,
    kind: str,
    uri: str,
    actor: Actor,
    object_uri: str,
    is_local: IsLocal | None = None,
) -> bool:
    """Record a Like or Announce once; return False when it was already there (`is_local`:
    whether the object can be ours, so that a remote one costs no owner lookup)."""
    exists = await session.scalar(
        select(Interaction.id).where(
            Interaction.kind == kind,
            Interaction.actor_id == actor.id,
            Interaction.object_uri == object_uri,
        )
    )
    if exists is not None:
        return False
    session.add(Interaction(uri=uri, kind=kind, actor_id=actor.id, object_uri=object_uri))
    owner = await _count_interaction(session, kind, object_uri, +1)
    await notify_interaction(session, kind, actor, object_uri, owner, is_local)
    return True


async def remove_interaction(session: AsyncSession, uri: str, actor: Actor) -> bool:
    row = await session.scalar(
        select(Interaction).where(Interaction.uri == uri, Interaction.actor_id == actor.id)
    )
    if row is None:
        return False
    await session.execute(delete(Interaction).where(Interaction.id == row.id))
    await _count_interaction(session, row.kind, row.object_uri, -1)
    return True


async def _count_interaction(
    session: AsyncSession, kind: str, object_uri: str, delta: int
) -> LocalOwner | None:
    """Count it on a note; returns whose the note is (None: not a note, perhaps a version)."""
    counter = _COUNTERS[kind]
    note = await session.execute(
        update(Note)
        .where(Note.uri == object_uri)
        .values({counter: counter + delta})
        .returning(Note.actor_id, Note.local)
    )
    row = note.first()
    return None if row is None else _local_owner(row, None)


async def replies_page(
    session: AsyncSession,
    parent_uri: str,
    viewer: Actor | None,
    *,
    after_id: int | None,
    limit: int,
) -> list[Note]:
    """The replies the viewer may read (None: anyone, as public collections list them),
    oldest first, keyset-paged by row id; suspended authors' replies are left out."""
    query = (
        select(Note)
        .join(Actor, Actor.id == Note.actor_id)
        .where(
            Note.in_reply_to == parent_uri,
            Note.deleted_at.is_(None),
            visible(),
            readable_by(viewer),
        )
    )
    if is_postgres(session):
        # A row-value bound and order that only the (in_reply_to, id) index can serve: with
        # plain `id > ?` PostgreSQL may walk the primary key and discard other threads' rows.
        query = query.where(tuple_(Note.in_reply_to, Note.id) > (parent_uri, after_id or 0))
        query = query.order_by(Note.in_reply_to, Note.id)
    else:  # SQLite seeks on the index with the plain form, and not with row values
        if after_id is not None:
            query = query.where(Note.id > after_id)
        query = query.order_by(Note.id)
    return list((await session.scalars(query.limit(limit))).all())
