"""Reports across instances: what a report names, and the Flag that forwards one.

A forwarded report is sent by the instance actor, never by the reporter, so that the person
who reported stays anonymous to the reported account's server (as Mastodon does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation_models import Report
from actors.service import ensure_instance_actor
from federation.errors import ValidationError
from federation.urls import LocalUrls
from federation.vocab import AS_CONTEXT
from objects.design_models import DesignVersion
from objects.designs import project_actor_ids
from objects.models import Note
from outbox.publish import publish

# Mastodon accepts at most this many statuses in a report; more would be an abuse.
MAX_OBJECTS = 50


def flag_activity(urls: LocalUrls, report: Report, target: Actor) -> dict[str, Any]:
    """The Flag we send: Mastodon's shape (ActivityPub::FlagSerializer)."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{urls.base_url}/reports/{report.id}",
        "type": "Flag",
        "actor": urls.instance_actor,
        "content": report.comment,
        "object": [target.uri, *report.object_uris],
    }


async def forward_report(
    session: AsyncSession, urls: LocalUrls, report: Report, target: Actor
) -> None:
    """Queue the Flag for the target's server (its shared inbox if it has one)."""
    await session.flush()  # the report's id is in the Flag's id
    sender = await ensure_instance_actor(session, urls)
    activity = flag_activity(urls, report, target)
    await publish(session, urls, sender, activity, also_inboxes=[target.delivery_inbox])
    report.forwarded = True


async def objects_of(session: AsyncSession, target: Actor, refs: Iterable[str]) -> list[str]:
    """The URIs of the target's notes and design versions that `refs` name (ids or URIs).

    A note is named by its numeric id or URI, a design version by its URI; anything not by
    the target is refused, so that a report cannot drag in someone else's posts. Looked up
    with a few IN queries for all the refs together."""
    named = list(refs)
    uris = await _object_uris_by(session, target, [ref.strip() for ref in named])
    found: list[str] = []
    for ref in named:
        uri = uris.get(ref.strip())
        if uri is None:
            raise ValidationError(
                f"status {ref!r:.100} is not a comment or design version by {target.handle}"
            )
        if uri not in found:
            found.append(uri)
    if len(found) > MAX_OBJECTS:
        raise ValidationError(f"a report names at most {MAX_OBJECTS} statuses")
    return found


async def _object_uris_by(
    session: AsyncSession, target: Actor, refs: list[str]
) -> dict[str, str | None]:
    """Each ref naming a live note or design version: its URI if it is the target's, else
    None (a ref naming nothing is left out)."""
    notes = await _live_notes(session, refs)
    uris: dict[str, str | None] = {
        ref: note.uri if note.actor_id == target.id else None for ref, note in notes.items()
    }
    versions = await _live_versions(session, {ref for ref in refs if ref not in notes})
    project_actors = await project_actor_ids(session, {v.project_id for v in versions.values()})
    for ref, version in versions.items():
        authors = version.authors.get("authors", [])
        by_target = project_actors.get(version.project_id) == target.id or target.uri in authors
        uris[ref] = version.uri if by_target else None
    return uris


def _note_id(ref: str) -> int | None:
    """The note id a ref is, if it is one; longer digit strings would overflow a bigint."""
    return int(ref) if ref.isdigit() and len(ref) <= 18 else None


async def _live_notes(session: AsyncSession, refs: list[str]) -> dict[str, Note]:
    """The not deleted note each ref names: by id if it is digits, else by URI."""
    ids = {ref: note_id for ref in refs if (note_id := _note_id(ref)) is not None}
    texts = {ref for ref in refs if ref not in ids}
    found: dict[str, Note] = {}
    if ids:
        rows = await session.scalars(
            select(Note).where(Note.id.in_(set(ids.values())), Note.deleted_at.is_(None))
        )
        by_id = {note.id: note for note in rows}
        found.update({ref: by_id[note_id] for ref, note_id in ids.items() if note_id in by_id})
    if texts:
        rows = await session.scalars(
            select(Note).where(Note.uri.in_(texts), Note.deleted_at.is_(None))
        )
        found.update({note.uri: note for note in rows})
    return found


async def _live_versions(session: AsyncSession, uris: set[str]) -> dict[str, DesignVersion]:
    """The not deleted design versions with these URIs, by URI."""
    if not uris:
        return {}
    rows = await session.scalars(
        select(DesignVersion).where(DesignVersion.uri.in_(uris), DesignVersion.deleted_at.is_(None))
    )
    return {version.uri: version for version in rows}


async def local_targets(session: AsyncSession, uris: Iterable[str]) -> dict[int, list[str]]:
    """Local actors named by a Flag's objects, each with the local objects named of theirs.

    An actor named directly is a target; a local note maps to its author, and a local
    design version to its local authors (or, if it names none, to its project). Looked up
    with a few IN queries for all the named objects together."""
    named = list(uris)[:MAX_OBJECTS]
    authors_of = await _local_authors_of(session, set(named))
    targets: dict[int, list[str]] = {}
    for uri in named:
        found = authors_of.get(uri)
        if found is None:
            continue
        actor_named, author_ids = found
        if actor_named:
            targets.setdefault(author_ids[0], [])
            continue
        for author_id in author_ids:
            objects = targets.setdefault(author_id, [])
            if uri not in objects:
                objects.append(uri)
    return targets


async def _local_authors_of(
    session: AsyncSession, uris: set[str]
) -> dict[str, tuple[bool, list[int]]]:
    """For each URI naming something local: (True, [the actor]) for a local actor, else
    (False, its local authors) for a note or design version."""
    if not uris:
        return {}
    actors = await session.execute(
        select(Actor.uri, Actor.id).where(
            Actor.uri.in_(uris), Actor.local.is_(True), Actor.deleted_at.is_(None)
        )
    )
    found: dict[str, tuple[bool, list[int]]] = {uri: (True, [id_]) for uri, id_ in actors.all()}
    rest = uris - found.keys()
    if rest:
        notes = await session.execute(
            select(Note.uri, Note.actor_id).where(Note.uri.in_(rest), Note.local.is_(True))
        )
        found.update({uri: (False, [actor_id]) for uri, actor_id in notes.all()})
        rest -= found.keys()
    if rest:
        versions = await session.scalars(
            select(DesignVersion).where(DesignVersion.uri.in_(rest), DesignVersion.local.is_(True))
        )
        found.update(await _version_authors(session, list(versions)))
    return found


async def _version_authors(
    session: AsyncSession, versions: list[DesignVersion]
) -> dict[str, tuple[bool, list[int]]]:
    """Each local version's local authors, or (if it names none) its project actor."""
    named = {version.uri: list(version.authors.get("authors", [])) for version in versions}
    wanted = {author for authors in named.values() for author in authors}
    local: dict[str, int] = {}
    if wanted:
        rows = await session.execute(
            select(Actor.uri, Actor.id).where(Actor.uri.in_(wanted), Actor.local.is_(True))
        )
        local = {uri: actor_id for uri, actor_id in rows}
    ids = {
        version.uri: list(dict.fromkeys(local[a] for a in named[version.uri] if a in local))
        for version in versions
    }
    orphans = {version.project_id for version in versions if not ids[version.uri]}
    projects = await project_actor_ids(session, orphans)
    return {
        version.uri: (
            False,
            ids[version.uri]
            or ([projects[version.project_id]] if version.project_id in projects else []),
        )
        for version in versions
    }
