"""The JSON API's shapes: rows to API JSON and the reads that feed them, and API input
(a version upload, search parameters) to what the services take.

Rows stay plain (see `objects.design_models`); what the API shows and accepts is built
here, so `web.routes.api` only handles requests, and the OpenAPI description
(`web.openapi`) has one place to stay in step with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from actors.models import Actor
from actors.moderation import publicly_listed, visible
from federation.db import is_postgres
from federation.errors import FederationError
from objects.blobs import StoredBlob
from objects.convert import iso
from objects.design_convert import file_url
from objects.design_models import DesignVersion, Project, ProjectMaintainer, VersionFile
from objects.designs import FileSpec, VersionSpec, clean_tags, licence_of
from objects.licences import COMPONENTS, LicenceError, LicencePolicy, LicenceTerms
from objects.models import Note
from web.files import media_type_essence
from web.http import query_int
from web.uploads import Upload, UploadedFile

LATEST_VERSIONS = 20
MAX_PAGE = 40
DEFAULT_PAGE = 20
PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})
FILE_FIELDS = ("files", "previews")


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
        "files": [file_json(base_url, file) for file in files],
    }


def is_remote_image(file: VersionFile) -> bool:
    return file.remote_url is not None and (file.preview or file.media_type.startswith("image/"))


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


async def files_of(
    session: AsyncSession, versions: Sequence[DesignVersion]
) -> dict[int, list[VersionFile]]:
    """Each version's files in their order, in one query."""
    found: dict[int, list[VersionFile]] = {version.id: [] for version in versions}
    if not versions:
        return found
    rows = await session.scalars(
        select(VersionFile)
        .where(VersionFile.version_id.in_(list(found)))
        .order_by(VersionFile.version_id, VersionFile.position)
    )
    for file in rows:
        found[file.version_id].append(file)
    return found


async def latest_versions(
    session: AsyncSession, project: Project, limit: int = LATEST_VERSIONS
) -> list[DesignVersion]:
    rows = await session.scalars(
        select(DesignVersion)
        .where(DesignVersion.project_id == project.id, DesignVersion.deleted_at.is_(None))
        .order_by(DesignVersion.id.desc())
        .limit(limit)
    )
    return list(rows)


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
    versions = await latest_versions(session, project)
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


def upload_licence(policy: LicencePolicy, upload: Upload) -> LicenceTerms:
    whole = (upload.value("licence") or "").strip()
    parts = {c: (upload.value(f"licence_{c}") or "").strip() for c in COMPONENTS}
    given = {component: value for component, value in parts.items() if value}
    if whole and given:
        raise LicenceError(
            "give either 'licence' (one SPDX expression for the whole design) or "
            "'licence_hardware', 'licence_documentation' and 'licence_software', not both"
        )
    if given:
        return policy.terms(given)
    return policy.terms(whole or None, default_if_missing=True)


def check_file_parts(upload: Upload) -> None:
    for uploaded in upload.files:
        if uploaded.field_name not in FILE_FIELDS:
            raise FederationError(
                f"the file {uploaded.filename!r} is in the part {uploaded.field_name!r:.80}; "
                "send design files as 'files' and preview images as 'previews'",
                status=400,
            )
        essence = media_type_essence(uploaded.content_type)
        if uploaded.field_name == "previews" and essence not in PREVIEW_TYPES:
            raise FederationError(
                f"the preview {uploaded.filename!r} is {essence}; previews must be PNG, "
                "JPEG, GIF, WebP or AVIF images (send other files as 'files')",
                status=415,
            )


def version_spec(
    upload: Upload,
    licence: LicenceTerms,
    author: Actor,
    stored: list[tuple[UploadedFile, StoredBlob]],
) -> VersionSpec:
    tags = [tag for value in upload.fields.get("tags", []) for tag in value.split(",")]
    files = tuple(
        FileSpec(
            filename=uploaded.filename,
            media_type=uploaded.content_type,
            size=blob.size,
            sha256=blob.sha256,
            preview=uploaded.field_name == "previews",
            cid=blob.cid,
        )
        for uploaded, blob in stored
    )
    return VersionSpec(
        label=upload.value("label") or "",
        name=upload.value("name") or "",
        summary=upload.value("summary") or "",
        description=upload.value("description") or "",
        tags=clean_tags(tags),
        licence=licence,
        files=files,
        authors=(author.uri,),
    )


# Search


@dataclass(frozen=True)
class ProjectFilters:
    """What `GET /api/v1/designs` filters by; every field is optional."""

    text: str | None = None
    tag: str | None = None
    licence: str | None = None  # normalised SPDX expression
    domain: str | None = None
    max_id: int | None = None
    limit: int = DEFAULT_PAGE


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


async def search_projects(
    session: AsyncSession, filters: ProjectFilters
) -> list[tuple[Project, Actor]]:
    """Projects, newest first, keyset-paged by project id (never OFFSET)."""
    query = (
        select(Project, Actor).join(Actor, Actor.id == Project.actor_id).where(publicly_listed())
    )
    query = _filtered(query, filters, postgres=is_postgres(session))
    if filters.max_id is not None:
        query = query.where(Project.id < filters.max_id)
    rows = await session.execute(query.order_by(Project.id.desc()).limit(filters.limit))
    return [(project, actor) for project, actor in rows.all()]


def _filtered(
    query: Select[Project, Actor], filters: ProjectFilters, *, postgres: bool
) -> Select[Project, Actor]:
    if filters.text:
        query = query.where(_text_matches(filters.text))
    if filters.tag:
        query = query.where(tags_contain(Project.tags, filters.tag, postgres=postgres))
    if filters.licence:
        query = query.where(_has_licence(filters.licence))
    if filters.domain:
        query = query.where(Actor.domain == filters.domain)
    return query


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_matches(text: str) -> ColumnElement[bool]:
    pattern = like_pattern(text)
    in_versions = exists(
        select(DesignVersion.id).where(
            DesignVersion.project_id == Project.id,
            DesignVersion.deleted_at.is_(None),
            DesignVersion.name.ilike(pattern, escape="\\"),
        )
    )
    return or_(
        Actor.name.ilike(pattern, escape="\\"),
        Actor.summary.ilike(pattern, escape="\\"),
        in_versions,
    )


def tags_contain(column: Any, tag: str, *, postgres: bool) -> ColumnElement[bool]:
    """Whether a {"tags": [...]} JSON column holds the tag."""
    if postgres:
        return type_coerce(column, JSONB).contains({"tags": [tag]})
    each = func.json_each(column, "$.tags").table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def _has_licence(licence: str) -> ColumnElement[bool]:
    """A version under exactly this expression, or with it as one component's licence."""
    escaped = like_pattern(licence)[1:-1]
    return exists(
        select(DesignVersion.id).where(
            DesignVersion.project_id == Project.id,
            DesignVersion.deleted_at.is_(None),
            or_(
                DesignVersion.licence_text == licence,
                DesignVersion.licence_text.like(f"%: {escaped};%", escape="\\"),
                DesignVersion.licence_text.like(f"%: {escaped}", escape="\\"),
            ),
        )
    )
