"""The HTML page of a comment: the comment in its thread, what it replies to, its replies,
and the design the thread is about. Remote content is shown only through `safe_html`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from actors.models import Actor
from actors.moderation import visible
from actors.service import actors_by_id
from federation.errors import FederationError
from objects.design_models import DesignVersion, Project
from objects.models import Note
from objects.notes import note_with_author, replies_page
from objects.visibility import may_read, readable_by
from web.browser import signed_in
from web.instance import instance_of
from web.templating import render_page

# How far up a thread we look for the design it is about.
MAX_THREAD_DEPTH = 12
REPLIES_SHOWN = 50


@dataclass(frozen=True)
class ThreadContext:
    parent_uri: str | None
    parent: tuple[Note, Actor] | None
    design: tuple[DesignVersion, Actor] | None


async def note_page(request: Request, note: Note, author: Actor) -> HTMLResponse:
    """The page, for those who may read the note (else 404, as if there were none)."""
    viewer = await signed_in(request)  # looked up before this page's session begins
    async with instance_of(request).sessions() as session:
        if not await may_read(session, viewer, note):
            raise FederationError("there is no such note", status=404)
        context = await thread_context(session, viewer, note.in_reply_to)
        replies = await replies_page(session, note.uri, viewer, after_id=None, limit=REPLIES_SHOWN)
        authors = await actors_by_id(session, {reply.actor_id for reply in replies})
        response = await render_page(
            request,
            "note.html",
            410 if note.deleted_at else 200,
            note=note,
            author=author,
            context=context,
            replies=[(reply, authors[reply.actor_id]) for reply in replies],
        )
    return response


async def note_html(request: Request) -> Response:
    """The page of one of our notes, for those who may read it (its ActivityStreams
    document is `web.activitypub.endpoints.note_document`)."""
    instance = instance_of(request)
    uri = f"{instance.urls.base_url}/notes/{request.path_params['note_id']}"
    async with instance.sessions() as session:
        row = await note_with_author(session, uri)
    if row is None:
        raise FederationError("there is no such note", status=404)
    return await note_page(request, *row)


async def thread_context(
    session: AsyncSession, viewer: Actor | None, parent_uri: str | None
) -> ThreadContext:
    """The note replied to (if we have it and the viewer may read it) and the design
    version at the thread's root."""
    parent: tuple[Note, Actor] | None = None
    uri = parent_uri
    for _ in range(MAX_THREAD_DEPTH):
        if uri is None:
            break
        design = await _version(session, uri)
        if design is not None:
            return ThreadContext(parent_uri, parent, design)
        found = await _note(session, viewer, uri)
        if found is None:
            break
        parent = parent or found
        uri = found[0].in_reply_to
    return ThreadContext(parent_uri, parent, None)


async def _version(session: AsyncSession, uri: str) -> tuple[DesignVersion, Actor] | None:
    row = (
        await session.execute(
            select(DesignVersion, Actor)
            .join(Project, Project.id == DesignVersion.project_id)
            .join(Actor, Actor.id == Project.actor_id)
            .where(DesignVersion.uri == uri, DesignVersion.deleted_at.is_(None), visible())
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def _note(session: AsyncSession, viewer: Actor | None, uri: str) -> tuple[Note, Actor] | None:
    row = (
        await session.execute(
            select(Note, Actor)
            .join(Actor, Actor.id == Note.actor_id)
            .where(
                Note.uri == uri,
                Note.deleted_at.is_(None),
                readable_by(viewer),
                visible(),
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])
