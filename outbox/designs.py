"""Publishing designs: new versions and forks go out as Create(Page) from the project actor.

A fork is also delivered to the upstream project's inbox, so that the upstream instance
lists it; the upstream project then Announces it to its own followers (see
`inbox.design_handlers`). Every function adds rows to the caller's session; the caller
commits once, so the version, its activity and its deliveries land together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.proof_keys import signed_by
from federation.db import utcnow
from federation.urls import LocalUrls
from federation.vocab import DESIGN_CONTEXT, PUBLIC
from objects.convert import iso
from objects.design_convert import version_to_as
from objects.design_models import DesignVersion, Project
from objects.designs import (
    FileSpec,
    VersionSpec,
    add_version,
    clean_tags,
    create_project,
    fork_credits,
    get_version,
    licence_of,
    project_of,
    record_fork,
    version_files,
)
from objects.history import core_digest
from objects.licences import LicencePolicy, LicenceTerms
from objects.markdown import render_markdown
from objects.models import Note
from objects.thumbnails import page_thumbnail
from objects.upload_checks import check_name
from outbox.models import OutboxActivity
from outbox.publish import publish


@dataclass(frozen=True)
class ForkRequest:
    forker: Actor
    upstream: DesignVersion
    upstream_project: Actor
    slug: str
    name: str
    licence: LicenceTerms


def version_uri(project_actor: Actor, number: int) -> str:
    return f"{project_actor.uri}/versions/{number}"


def version_activity(
    urls: LocalUrls, project_actor: Actor, page: dict[str, Any], kind: str = "Create"
) -> dict[str, Any]:
    """A Create (a new version) or an Update (a text fix) of a version's Page."""
    activity = {
        "@context": DESIGN_CONTEXT,
        "id": urls.new_activity(),
        "type": kind,
        "actor": project_actor.uri,
        "object": page,
        "to": page["to"],
        "cc": page["cc"],
    }
    if kind == "Create":
        activity["published"] = page["published"]
    return activity


async def _page(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    version: DesignVersion,
    project_actor: Actor,
) -> dict[str, Any]:
    files = await version_files(session, version)
    drawn = await page_thumbnail(session, files)
    page = version_to_as(version, project_actor, files, policy, urls.base_url, thumbnail=drawn)
    # Signed on its own, with its own context, so that it can be checked wherever it is
    # passed on without the activity (an Announce, a mirror, an archive).
    return await signed_by(session, project_actor, page)


async def _history(
    session: AsyncSession, urls: LocalUrls, policy: LicencePolicy, version: DesignVersion
) -> dict[str, str]:
    """The links that chain a new version to the one before it and to its upstream."""
    links: dict[str, str] = {}
    previous = await session.scalar(
        select(DesignVersion).where(
            DesignVersion.project_id == version.project_id,
            DesignVersion.number == version.number - 1,
        )
    )
    if previous is not None:
        links["previousVersion"] = previous.uri
        links["previousVersionDigest"] = await _digest(session, urls, policy, previous)
    if version.upstream_uri is not None:
        upstream = await session.scalar(
            select(DesignVersion).where(DesignVersion.uri == version.upstream_uri)
        )
        if upstream is not None:
            links["forkedFromDigest"] = await _digest(session, urls, policy, upstream)
    return links


async def _digest(
    session: AsyncSession, urls: LocalUrls, policy: LicencePolicy, version: DesignVersion
) -> str:
    _, project_actor = await project_of(session, version)
    files = await version_files(session, version)
    page = version_to_as(version, project_actor, files, policy, urls.base_url, as_published=True)
    return core_digest(page)


async def send_page_update(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    version: DesignVersion,
    project_actor: Actor,
) -> OutboxActivity:
    """Send a local version's Page as it is now, as Update(Page); the caller commits."""
    page = await _page(session, urls, policy, version, project_actor)
    return await publish(
        session, urls, project_actor, version_activity(urls, project_actor, page, "Update")
    )


def announce(urls: LocalUrls, project_actor: Actor, object_uri: str) -> dict[str, Any]:
    return {
        "@context": DESIGN_CONTEXT,
        "id": urls.new_activity(),
        "type": "Announce",
        "actor": project_actor.uri,
        "object": object_uri,
        "to": [PUBLIC],
        "cc": [project_actor.followers_url],
        "published": iso(utcnow()),
    }


async def publish_version(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    project: Project,
    project_actor: Actor,
    spec: VersionSpec,
    *,
    notify: tuple[str, ...] = (),
) -> tuple[DesignVersion, OutboxActivity]:
    """Store a local version and its Create; `notify` adds inboxes (an upstream project)."""
    uri = version_uri(project_actor, project.versions_count + 1)
    version = await add_version(session, project, project_actor, spec, uri=uri, local=True)
    links = await _history(session, urls, policy, version)
    version.document = {"history": links} if links else None
    page = await _page(session, urls, policy, version, project_actor)
    activity = version_activity(urls, project_actor, page)
    row = await publish(session, urls, project_actor, activity, also_inboxes=notify)
    return version, row


async def fork(
    session: AsyncSession, urls: LocalUrls, policy: LicencePolicy, request: ForkRequest
) -> tuple[Project, Actor, DesignVersion]:
    """A new project owned by the forker whose first version links the upstream version."""
    upstream = request.upstream
    policy.check_fork(licence_of(upstream), request.licence, request.forker.entity_kind)
    project, project_actor = await create_project(
        session, urls, request.forker, slug=request.slug, name=request.name, summary=""
    )
    project.upstream_uri = upstream.uri
    spec = VersionSpec(
        label="1",
        name=request.name,
        summary=upstream.summary,
        description=upstream.source,
        content_html=None if upstream.source else upstream.content,
        tags=tuple(upstream.tags.get("tags", [])),
        licence=request.licence,
        files=tuple(await _files_of(session, upstream)),
        authors=(request.forker.uri,),
        credits=fork_credits(upstream),
        upstream_uri=upstream.uri,
    )
    upstream_inbox = request.upstream_project.inbox
    version, _ = await publish_version(
        session, urls, policy, project, project_actor, spec, notify=(upstream_inbox,)
    )
    await record_fork(
        session,
        upstream_uri=upstream.uri,
        upstream=upstream,
        fork_uri=version.uri,
        fork_project_uri=project_actor.uri,
        forked_by=request.forker,
    )
    return project, project_actor, version


async def _files_of(session: AsyncSession, upstream: DesignVersion) -> list[FileSpec]:
    """The upstream's files: ours by digest, remote ones linked with their digests."""
    return [
        FileSpec(
            filename=file.filename,
            media_type=file.media_type,
            size=file.size,
            sha256=file.sha256,
            preview=file.preview,
            remote_url=file.remote_url,
            cid=file.cid,
        )
        for file in await version_files(session, upstream)
    ]


async def after_comment(session: AsyncSession, urls: LocalUrls, note: Note) -> None:
    """A comment on one of our projects' versions: the project passes it on to its followers.
    (Storing the note counted it on the version.)"""
    if note.in_reply_to:
        await announce_from_project_of(session, urls, note.in_reply_to, note.uri)


async def announce_from_project_of(
    session: AsyncSession, urls: LocalUrls, version_uri: str, object_uri: str
) -> None:
    """When the version is one of our projects', that project passes `object_uri` on to its
    followers (a fork of it, or a comment on it)."""
    version = await get_version(session, version_uri)
    if version is None:
        return
    project, project_actor = await project_of(session, version)
    if not project.local:
        return
    await publish(session, urls, project_actor, announce(urls, project_actor, object_uri))


@dataclass(frozen=True)
class TextFix:
    """What may change in a published version: its text, never its licence or files."""

    name: str | None = None
    summary: str | None = None
    description: str | None = None  # Markdown
    tags: tuple[str, ...] | None = None


async def fix_version_text(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    version: DesignVersion,
    project_actor: Actor,
    fix: TextFix,
) -> OutboxActivity:
    """Apply a text fix to a local version and send it as Update(Page); the caller commits."""
    if fix.name is not None:
        check_name(fix.name, "the version's name")  # refused, never cut
        version.name = fix.name.strip() or version.name
    if fix.summary is not None:
        version.summary = fix.summary.strip()
    if fix.description is not None:
        version.source, version.content = fix.description, render_markdown(fix.description)
    if fix.tags is not None:
        version.tags = {"tags": list(clean_tags(fix.tags))}
    version.edited_at = utcnow()
    return await send_page_update(session, urls, policy, version, project_actor)
