"""The JSON API's shapes: rows to API JSON and the reads that feed them, and API input
(a version upload, search parameters) to what the services take.

Rows stay plain (see `objects.design_models`); what the API shows and accepts is built
here, so `web.api.designs` only handles requests, and the OpenAPI description
(`web.api.openapi`) has one place to stay in step with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from actors.models import Actor
from actors.moderation import visible
from federation.errors import FederationError
from objects.convert import iso
from objects.design_convert import file_url
from objects.design_models import DesignVersion, Project, ProjectMaintainer, VersionFile
from objects.designs import (
    clean_tags,
    files_of,
    is_remote_image,
    latest_versions,
    licence_of,
)
from objects.licences import LicencePolicy
from objects.models import Note
from objects.search import DEFAULT_PAGE, ProjectFilters
from web.request_input import query_int

LATEST_VERSIONS = 20
MAX_PAGE = 40


def file_json(base_url: str, file: VersionFile) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "media_type": file.media_type,
        "size": file.size,
        "sha256": file.sha256,
        "cid": file.cid,
        "url": file_url(base_url, file),
        "preview": file.preview,
    }


def version_json(
    version: DesignVersion,
    project_actor: Actor,
    files: Sequence[VersionFile],
    policy: LicencePolicy,
    base_url: str,
    *,
    reject_media: bool = False,
) -> dict[str, Any]:
    """`reject_media` (a domain block's flag) leaves out remote images, so we never link them."""
    if reject_media:
        files = [file for file in files if not is_remote_image(file)]
    terms = licence_of(version)
    return {
        "id": version.uri,
        "project": project_actor.uri,
        "number": version.number,
        "label": version.label,
        "name": version.name,
        "summary": version.summary,
        "changelog": version.changelog,
        "content": version.content,
        "source": version.source if version.local else None,
        "tags": version.tags.get("tags", []),
        "licence": terms.to_json(),
        "licence_summary": terms.summary(),
        "license_urls": policy.license_urls(terms),
        "commercial_use": policy.commercial_use(terms),
        "who_may_fork": policy.who_may_fork(terms),
        "authors": version.authors.get("authors", []),
        "credits": version.credits.get("credits", []),
        "upstream": version.upstream_uri,
        "published": iso(version.published),
        "replies_count": version.replies_count,
        "makes_count": version.makes_count,
        # Its Open Know-How manifest (web.api.okh), served for the versions published here.
        "needs": version.needs,
        "okh_manifest": f"{version.uri}/okh.toml" if version.local else None,
        "files": [file_json(base_url, file) for file in files],
    }


def project_json(project: Project, actor: Actor, maintainers: list[str]) -> dict[str, Any]:
    return {
        "id": actor.uri,
        "handle": actor.handle,
        "name": actor.name,
        "summary": actor.summary,
        "local": project.local,
        "upstream": project.upstream_uri,
        "versions_count": project.versions_count,
        "forks_count": project.forks_count,
        "makes_count": project.makes_count,
        "tags": project.tags.get("tags", []),
        "maintainers": maintainers,
        "latest_version": project.latest_version_uri,
        "followers": actor.followers_url,
    }


def comment_json(note: Note, author: Actor) -> dict[str, Any]:
    return {
        "id": note.uri,
        "url": note.url or note.uri,
        "author": author.uri,
        "in_reply_to": note.in_reply_to,
        "content": note.content,
        "summary": note.summary,
        "sensitive": note.sensitive,
        "to": note.to.get("to", []),
        "cc": note.to.get("cc", []),
        "licence": note.license,
        "published": iso(note.published),
    }


# Reads


async def maintainers_of(session: AsyncSession, project_ids: Iterable[int]) -> dict[int, list[str]]:
    """Maintainer actor URIs per project, in one query."""
    ids = list(project_ids)
    found: dict[int, list[str]] = {project_id: [] for project_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(ProjectMaintainer.project_id, Actor.uri)
        .join(Actor, Actor.id == ProjectMaintainer.actor_id)
        .where(ProjectMaintainer.project_id.in_(ids))
        .order_by(ProjectMaintainer.project_id, Actor.id)
    )
    for project_id, uri in rows.all():
        found[project_id].append(uri)
    return found


async def project_of_actor(session: AsyncSession, actor_uri: str) -> tuple[Project, Actor] | None:
    row = (
        await session.execute(
            select(Project, Actor)
            .join(Actor, Actor.id == Project.actor_id)
            .where(Actor.uri == actor_uri, visible())
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def project_with_versions(
    session: AsyncSession,
    project: Project,
    actor: Actor,
    policy: LicencePolicy,
    base_url: str,
    *,
    reject_media: bool = False,
) -> dict[str, Any]:
    """A project's JSON with its latest versions, newest first."""
    maintainers = await maintainers_of(session, [project.id])
    versions = await latest_versions(session, project, LATEST_VERSIONS)
    files = await files_of(session, versions)
    doc = project_json(project, actor, maintainers[project.id])
    doc["versions"] = [
        version_json(version, actor, files[version.id], policy, base_url, reject_media=reject_media)
        for version in versions
    ]
    return doc


# Input


def text_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        needed = "is required and must be" if required else "must be"
        raise FederationError(f"{name!r} {needed} text", status=400)
    return value


def query_text(request: Request, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        raise FederationError(f"add the query parameter ?{name}=...", status=400)
    return value


# Search


def project_filters(request: Request, policy: LicencePolicy) -> ProjectFilters:
    params = request.query_params
    tag = params.get("tag", "").strip()
    tags = clean_tags([tag]) if tag else ()
    if tag and not tags:
        raise FederationError(f"{tag!r:.80} is not a tag: use letters, digits, '-' and '_'")
    licence = params.get("licence", "").strip()
    limit = query_int(request, "limit") or DEFAULT_PAGE
    return ProjectFilters(
        text=params.get("q", "").strip()[:200] or None,
        tag=tags[0] if tags else None,
        licence=policy.normalise(licence) if licence else None,
        domain=params.get("instance", "").strip().lower() or None,
        max_id=query_int(request, "max_id"),
        limit=min(limit, MAX_PAGE),
    )
