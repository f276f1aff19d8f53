"""Finding a note by URI: ours, one we stored, or fetched (with origin checks) and stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import ValidationError
from objects.convert import RemoteNoteData, parse_remote_note
from objects.design_convert import is_design
from objects.models import Note
from objects.notes import get_note, store_remote_note
from objects.polls import store_remote_poll


async def find_or_fetch_note(session: AsyncSession, resolver: ActorResolver, uri: str) -> Note:
    note = await get_note(session, uri)
    if note is not None:
        return note
    if resolver.urls.is_local(uri):
        raise ValidationError(f"there is no note {uri}", status=404)
    doc = await resolver.fetch_document(uri)
    if is_design(doc):
        raise ValidationError(
            f"{uri} is a design version: comment on it with POST /api/v1/comments", status=422
        )
    data, author = await note_and_author(resolver, doc)
    note = await store_remote_note(session, data, author)
    await store_remote_poll(session, data.uri, doc)  # a Question's poll, if it is one
    return note


async def note_and_author(
    resolver: ActorResolver, doc: dict[str, Any]
) -> tuple[RemoteNoteData, Actor]:
    """A note from `resolver.fetch_document` (its id is its URL), validated (it is on its
    author's host), and its author."""
    data = parse_remote_note(doc)
    return data, await resolver.get_actor(data.attributed_to)


async def ensure_note(
    sessions: async_sessionmaker[AsyncSession], resolver: ActorResolver, uri: str
) -> None:
    """Fetch and store a remote note ahead of a transaction that needs it, so that no
    session is held while fetching (on SQLite, that session would hold the one connection
    that the actor resolver's own sessions then wait for)."""
    async with sessions() as session:
        if resolver.urls.is_local(uri) or await get_note(session, uri) is not None:
            return
    doc = await resolver.fetch_document(uri)
    if is_design(doc):
        return  # not a note: find_or_fetch_note says what to do instead
    await store_fetched_note(sessions, resolver, doc)


# How a fetched note is stored in its session (by default `store_remote_note`).
StoreNote = Callable[[AsyncSession, RemoteNoteData, Actor], Awaitable[Note | None]]


async def store_fetched_note(
    sessions: async_sessionmaker[AsyncSession],
    resolver: ActorResolver,
    doc: dict[str, Any],
    *,
    store: StoreNote | None = None,
) -> tuple[RemoteNoteData, Actor, Note | None]:
    """Store a note from `resolver.fetch_document` in a session of its own; one stored
    concurrently by someone else is all we wanted, and is read back. Returns the note's
    data, its author and the note (None when `store` returns none)."""
    data, author = await note_and_author(resolver, doc)
    note: Note | None
    try:
        async with sessions() as session:
            if store is None:
                note = await store_remote_note(session, data, author, resolver.urls.is_local)
            else:
                note = await store(session, data, author)
            if note is not None and doc.get("type") == "Question":
                await store_remote_poll(session, data.uri, doc)
            await session.commit()
            return data, author, note
    except IntegrityError:  # stored concurrently: read it back
        async with sessions() as session:
            return data, author, await get_note(session, data.uri)
