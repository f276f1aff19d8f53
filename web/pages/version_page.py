"""What a design version's HTML page shows, read in a handful of indexed queries.

The page is the most visited one, so every list on it (files, people, the credit chain,
the comment thread) is read with one bounded query, whatever its length: the statement
count of a render does not grow with the number of files, comments or ancestors.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.models import Actor
from actors.moderation import visible
from federation.errors import FederationError
from objects.blobs import BlobStore
from objects.design_models import DesignVersion, Project, ProjectMaintainer, VersionFile
from objects.designs import version_files
from objects.lineage import ancestors
from objects.make_models import Make
from objects.makes import makes_of
from objects.models import Note
from objects.thumbnails import model_format, thumbnail_failure, thumbnail_path, thumbnails_for
from objects.visibility import readable_by

MAX_MAKES = 20  # the newest makes shown on a version's page
# The thread shown on the page: the oldest comments first, at most this many in all.
MAX_COMMENTS = 200
MAX_THREAD_DEPTH = 12


@dataclass(frozen=True)
class Person:
    uri: str
    handle: str
    name: str
    url: str


@dataclass(frozen=True)
class Ancestor:
    """A version up the fork chain, on this instance or another."""

    uri: str
    name: str
    label: str
    project: Person


@dataclass
class Comment:
    id: int
    uri: str
    author: Person
    content: str
    summary: str | None
    published: dt.datetime
    deleted: bool
    replies: list[Comment] = field(default_factory=list)


@dataclass(frozen=True)
class ViewerModel:
    """The 3D file the viewer loads, and its thumbnail's path once the worker made it (or why
    it cannot be made)."""

    file: VersionFile
    format: str
    thumbnail: str | None
    thumbnail_problem: str | None = None


@dataclass
class VersionPage:
    version: DesignVersion
    project: Project
    project_actor: Actor
    files: list[VersionFile]
    maintainers: list[Person]
    credits: list[Person]
    ancestors: list[Ancestor]
    upstream_uri: str | None
    comments: list[Comment]
    comment_count: int
    viewer: ViewerModel | None
    # The newest makes of this version: (make, its note, its maker, the version's URI).
    makes: list[tuple[Make, Note, Actor, str]] = field(default_factory=list)


def web_link(*candidates: str | None) -> str:
    """The first http(s) URL among `candidates`, or "": addresses from other servers become
    links only when they cannot run anything (no javascript: or data: URLs)."""
    return next((c for c in candidates if c and c.startswith(("https://", "http://"))), "")


def person(actor: Any) -> Person:
    """A person (or project) from a row with an actor's uri, username, domain, name, url."""
    return Person(
        uri=actor.uri,
        handle=f"@{actor.username}@{actor.domain}",
        name=actor.name or actor.username,
        url=web_link(actor.url, actor.uri),
    )


async def load_version_page(
    session: AsyncSession, slug: str, number: int, blobs: BlobStore
) -> VersionPage:
    """Version `number` of our project `slug`."""
    mine = (Actor.local.is_(True), Actor.username == slug, DesignVersion.number == number)
    missing = f"there is no version {number} of a design project {slug!r:.80} here"
    return await _load(session, blobs, await _version_row(session, missing, *mine))


async def load_stored_version_page(
    session: AsyncSession, version_id: int, blobs: BlobStore
) -> VersionPage:
    """Any version stored here, by row id: how we show designs from other instances."""
    missing = "there is no such design version here"
    return await _load(
        session, blobs, await _version_row(session, missing, DesignVersion.id == version_id)
    )


async def _load(
    session: AsyncSession, blobs: BlobStore, row: tuple[DesignVersion, Project, Actor]
) -> VersionPage:
    version, project, project_actor = row
    files = await version_files(session, version)
    people = await _people(session, project, version)
    upstream_uri = version.upstream_uri or project.upstream_uri
    chain = await _credit_chain(session, version.uri) if upstream_uri else []
    comments, count = await _thread(session, version.uri)
    return VersionPage(
        version=version,
        project=project,
        project_actor=project_actor,
        files=files,
        maintainers=[p for p, is_maintainer in people if is_maintainer],
        credits=_credited(version, [p for p, _ in people]),
        ancestors=chain,
        upstream_uri=web_link(upstream_uri) or None,
        comments=comments,
        comment_count=count,
        viewer=await _viewer_model(session, files, blobs),
        makes=await makes_of(session, project, version=version, limit=MAX_MAKES),
    )


async def _version_row(
    session: AsyncSession, missing: str, *conditions: ColumnElement[bool]
) -> tuple[DesignVersion, Project, Actor]:
    row = (
        await session.execute(
            select(DesignVersion, Project, Actor)
            .join(Project, Project.id == DesignVersion.project_id)
            .join(Actor, Actor.id == Project.actor_id)
            .where(Actor.deleted_at.is_(None), *conditions)
        )
    ).first()
    if row is None:
        raise FederationError(missing, status=404)
    return row[0], row[1], row[2]


async def _people(
    session: AsyncSession, project: Project, version: DesignVersion
) -> list[tuple[Person, bool]]:
    """The maintainers (True) and the people the version credits (False), in one query: a
    UNION of two index lookups (an OR of the two would scan every actor on PostgreSQL)."""
    credited = [*version.authors.get("authors", []), *version.credits.get("credits", [])]
    columns = (Actor.uri, Actor.username, Actor.domain, Actor.name, Actor.url)
    query = (
        select(*columns, literal(True).label("maintainer"))
        .join(ProjectMaintainer, ProjectMaintainer.actor_id == Actor.id)
        .where(ProjectMaintainer.project_id == project.id, visible())
    )
    if credited:
        others = select(*columns, literal(False)).where(Actor.uri.in_(credited), visible())
        query = union_all(query, others)  # type: ignore[assignment]
    rows = await session.execute(query)
    return [(person(row), bool(row[5])) for row in rows.all()]


def _credited(version: DesignVersion, known: list[Person]) -> list[Person]:
    """Everyone credited, in the version's order; people we never fetched by their URI."""
    by_uri = {p.uri: p for p in known}
    uris = dict.fromkeys([*version.authors.get("authors", []), *version.credits.get("credits", [])])
    return [by_uri.get(uri) or Person(uri, uri, uri, web_link(uri)) for uri in uris]


async def _credit_chain(session: AsyncSession, version_uri: str) -> list[Ancestor]:
    """The versions this one descends from, nearest first, as far as we know them."""
    uris = (await ancestors(session, version_uri)).chain[1:]
    if not uris:
        return []
    rows = await session.execute(
        select(
            DesignVersion.uri.label("version_uri"),
            DesignVersion.name.label("version_name"),
            DesignVersion.label,
            Actor.uri,
            Actor.username,
            Actor.domain,
            Actor.name,
            Actor.url,
        )
        .join(Project, Project.id == DesignVersion.project_id)
        .join(Actor, Actor.id == Project.actor_id)
        .where(DesignVersion.uri.in_(uris))
    )
    by_uri = {
        row.version_uri: Ancestor(row.version_uri, row.version_name, row.label, person(row))
        for row in rows.all()
        if web_link(row.version_uri)
    }
    return [by_uri[uri] for uri in uris if uri in by_uri]


@functools.cache
def thread_query() -> Select[*tuple[Any, ...]]:
    """The comments on a version (bound as `version_uri`) and the replies to them, to any
    depth up to `MAX_THREAD_DEPTH`, with their authors: one recursive query over the
    (in_reply_to, id) index. Built once: constructing it costs more than running it."""
    top = (
        select(Note.uri.label("uri"), literal(1).label("depth"))
        .where(Note.in_reply_to == bindparam("version_uri"))
        .order_by(Note.id)
        .limit(MAX_COMMENTS)
        .subquery()
    )
    thread = select(top.c.uri, top.c.depth).cte("thread", recursive=True)
    reply = aliased(Note)
    thread = thread.union_all(
        select(reply.uri, thread.c.depth + 1)
        .join(thread, reply.in_reply_to == thread.c.uri)
        .where(thread.c.depth < MAX_THREAD_DEPTH)
    )
    return (
        select(
            Note.id,
            Note.uri,
            Note.in_reply_to,
            Note.content,
            Note.summary,
            Note.published,
            Note.deleted_at,
            Actor.uri.label("author_uri"),
            Actor.username,
            Actor.domain,
            Actor.name,
            Actor.url,
        )
        .join(thread, thread.c.uri == Note.uri)
        .join(Actor, Actor.id == Note.actor_id)
        .where(visible(), readable_by(None))
        .order_by(Note.id)
        .limit(MAX_COMMENTS)
    )


async def _thread(session: AsyncSession, version_uri: str) -> tuple[list[Comment], int]:
    """The comment tree (top-level comments, replies nested) and how many it holds."""
    rows = (await session.execute(thread_query(), {"version_uri": version_uri})).all()
    by_uri: dict[str, Comment] = {}
    parents: list[tuple[Comment, str | None]] = []
    for row in rows:
        author = Person(
            row.author_uri,
            f"@{row.username}@{row.domain}",
            row.name or row.username,
            web_link(row.url, row.author_uri),
        )
        comment = Comment(
            id=row.id,
            uri=row.uri,
            author=author,
            content=row.content,
            summary=row.summary,
            published=row.published,
            deleted=row.deleted_at is not None,
        )
        by_uri[row.uri] = comment
        parents.append((comment, row.in_reply_to))
    top: list[Comment] = []
    for comment, parent_uri in parents:
        if parent_uri == version_uri:
            top.append(comment)
        elif parent_uri in by_uri:
            by_uri[parent_uri].replies.append(comment)
    # A reply whose parent is hidden (suspended author) is left out with it.
    return top, len(parents)


def viewer_format(file: VersionFile, blobs: BlobStore) -> str | None:
    """stl, obj, gltf or glb for a 3D file the viewer can load from this instance: ours, or a
    copy of one kept elsewhere (the page's policy only fetches from here)."""
    if file.remote_url is not None and not blobs.exists(file.sha256):
        return None
    return model_format(file.filename)


async def _viewer_model(
    session: AsyncSession, files: list[VersionFile], blobs: BlobStore
) -> ViewerModel | None:
    for file in files:
        kind = viewer_format(file, blobs)
        if kind is not None:
            made = await thumbnails_for(session, [file.sha256])
            if file.sha256 in made:
                return ViewerModel(file, kind, thumbnail_path(file.sha256))
            return ViewerModel(file, kind, None, await thumbnail_failure(session, file.sha256))
    return None
