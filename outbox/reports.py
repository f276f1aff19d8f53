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
from objects.design_models import DesignVersion, Project
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
    the target is refused, so that a report cannot drag in someone else's posts."""
    found: list[str] = []
    for ref in refs:
        uri = await _object_uri_by(session, target, ref.strip())
        if uri is None:
            raise ValidationError(
                f"status {ref!r:.100} is not a comment or design version by {target.handle}"
            )
        if uri not in found:
            found.append(uri)
    if len(found) > MAX_OBJECTS:
        raise ValidationError(f"a report names at most {MAX_OBJECTS} statuses")
    return found


async def _object_uri_by(session: AsyncSession, target: Actor, ref: str) -> str | None:
    by_id = Note.id == int(ref) if ref.isdigit() and len(ref) <= 18 else Note.uri == ref
    note = await session.scalar(select(Note).where(by_id, Note.deleted_at.is_(None)))
    if note is not None:
        return note.uri if note.actor_id == target.id else None
    version = await session.scalar(select(DesignVersion).where(DesignVersion.uri == ref))
    if version is None or version.deleted_at is not None:
        return None
    project_actor = await session.scalar(
        select(Project.actor_id).where(Project.id == version.project_id)
    )
    authors = version.authors.get("authors", [])
    return version.uri if project_actor == target.id or target.uri in authors else None


async def local_targets(session: AsyncSession, uris: Iterable[str]) -> dict[int, list[str]]:
    """Local actors named by a Flag's objects, each with the local objects named of theirs.

    An actor named directly is a target; a local note maps to its author, and a local
    design version to its local authors (or, if it names none, to its project)."""
    targets: dict[int, list[str]] = {}
    for uri in list(uris)[:MAX_OBJECTS]:
        actor = await session.scalar(
            select(Actor).where(Actor.uri == uri, Actor.local.is_(True), Actor.deleted_at.is_(None))
        )
        if actor is not None:
            targets.setdefault(actor.id, [])
            continue
        for author_id in await _local_authors_of(session, uri):
            objects = targets.setdefault(author_id, [])
            if uri not in objects:
                objects.append(uri)
    return targets


async def _local_authors_of(session: AsyncSession, uri: str) -> list[int]:
    note = await session.scalar(select(Note).where(Note.uri == uri, Note.local.is_(True)))
    if note is not None:
        return [note.actor_id]
    version = await session.scalar(
        select(DesignVersion).where(DesignVersion.uri == uri, DesignVersion.local.is_(True))
    )
    if version is None:
        return []
    authors = version.authors.get("authors", [])
    local = await session.scalars(
        select(Actor.id).where(Actor.uri.in_(authors), Actor.local.is_(True))
    )
    ids = list(local)
    if ids:
        return ids
    project_actor = await session.scalar(
        select(Project.actor_id).where(Project.id == version.project_id)
    )
    return [project_actor] if project_actor is not None else []
