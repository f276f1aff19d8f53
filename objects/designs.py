"""Design projects, versions and forks: the one service local and inbound paths share.

Callers add rows through these functions and commit once (with the outbox's
activity, see `outbox.designs`). Every licence decision goes through the
instance's `LicencePolicy`, so a web form, the JSON API and a received
activity are judged by the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.service import USERNAME_RE, ConflictError, get_local_actor, new_local_actor
from federation.errors import FederationError, ValidationError
from federation.urls import LocalUrls
from objects.blobs import StoredBlob
from objects.design_models import (
    PROJECT_ACTOR_TYPE,
    DesignVersion,
    Fork,
    Project,
    ProjectMaintainer,
    VersionFile,
)
from objects.html import sanitize_html
from objects.licences import LicenceTerms
from objects.markdown import render_markdown
from objects.notifications import FORK, notify
from objects.thumbnails import queue_thumbnails
from objects.upload_checks import MAX_TAGS, check_name


@dataclass(frozen=True)
class FileSpec:
    filename: str
    media_type: str
    size: int
    sha256: str
    preview: bool = False
    remote_url: str | None = None
    cid: str | None = None  # when the bytes went by; else derived for a one-chunk file


@dataclass(frozen=True)
class VersionSpec:
    """What a maker submits for a new version, already checked for shape."""

    label: str
    name: str
    licence: LicenceTerms
    summary: str = ""
    description: str = ""  # Markdown
    changelog: str = ""  # plain text: what changed since the version before
    tags: tuple[str, ...] = ()
    files: tuple[FileSpec, ...] = ()
    authors: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    upstream_uri: str | None = None
    uri: str | None = None  # remote versions keep their own id
    content_html: str | None = None  # remote versions arrive rendered
    # previousVersion and the digests of objects/history.py, as a received Page names them
    history: dict[str, str] | None = None
    needs: dict[str, Any] | None = None  # what making it needs (actors.maker_space)


def clean_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    cleaned = []
    for tag in tags:
        name = tag.strip().lstrip("#").lower()
        if name and name not in cleaned and name.replace("_", "").replace("-", "").isalnum():
            cleaned.append(name[:64])
    return tuple(cleaned[:MAX_TAGS])


async def check_free_handle(session: AsyncSession, slug: str) -> None:
    """Refuse a project handle that is malformed or taken (by a person or a project)."""
    if not USERNAME_RE.match(slug):
        raise ValidationError(
            "a project handle is 1 to 30 characters of lower-case letters, digits and '_'"
        )
    if await get_local_actor(session, slug) is not None:
        raise ConflictError(f"the handle {slug!r} is taken by a person or another project")


async def create_project(
    session: AsyncSession, urls: LocalUrls, owner: Actor, *, slug: str, name: str, summary: str
) -> tuple[Project, Actor]:
    """A new local project actor maintained by `owner`; the caller commits."""
    await check_free_handle(session, slug)
    check_name(name, "the project's name")  # refused, never cut (forks come here too)
    actor = new_local_actor(urls, slug, actor_type=PROJECT_ACTOR_TYPE)
    actor.name = name.strip() or slug
    actor.summary = sanitize_html(summary)
    actor.entity_kind = owner.entity_kind
    session.add(actor)
    await session.flush()
    project = Project(actor_id=actor.id, local=True, tags={"tags": []})
    session.add(project)
    await session.flush()
    session.add(ProjectMaintainer(project_id=project.id, actor_id=owner.id))
    return project, actor


async def local_project(session: AsyncSession, slug: str) -> tuple[Project, Actor] | None:
    """The local project with this handle (only project actors have a projects row)."""
    actor = await get_local_actor(session, slug)
    project = await project_for_actor(session, actor) if actor is not None else None
    return None if project is None or actor is None else (project, actor)


async def project_for_actor(session: AsyncSession, actor: Actor) -> Project | None:
    return await session.scalar(select(Project).where(Project.actor_id == actor.id))


async def is_maintainer(session: AsyncSession, project: Project, actor: Actor) -> bool:
    row = await session.get(ProjectMaintainer, (project.id, actor.id))
    return row is not None


async def get_version(session: AsyncSession, uri: str) -> DesignVersion | None:
    return await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))


async def project_of(session: AsyncSession, version: DesignVersion) -> tuple[Project, Actor]:
    """A version's project and its actor (both always exist: rows cascade)."""
    project = await session.get(Project, version.project_id)
    assert project is not None
    actor = await session.get(Actor, project.actor_id)
    assert actor is not None
    return project, actor


async def project_actor_ids(session: AsyncSession, project_ids: set[int]) -> dict[int, int]:
    """The actor id of each of these projects, in one query."""
    if not project_ids:
        return {}
    rows = await session.execute(
        select(Project.id, Project.actor_id).where(Project.id.in_(project_ids))
    )
    return {project_id: actor_id for project_id, actor_id in rows.all()}


async def version_files(session: AsyncSession, version: DesignVersion) -> list[VersionFile]:
    rows = await session.scalars(
        select(VersionFile)
        .where(VersionFile.version_id == version.id)
        .order_by(VersionFile.position)
    )
    return list(rows)


async def add_version(
    session: AsyncSession,
    project: Project,
    project_actor: Actor,
    spec: VersionSpec,
    *,
    uri: str,
    local: bool,
) -> DesignVersion:
    """Store a version (local or received) after the licence checks; the caller commits."""
    number = project.versions_count + 1
    version = DesignVersion(
        uri=uri,
        project_id=project.id,
        local=local,
        number=number,
        label=spec.label.strip()[:64] or str(number),
        name=spec.name.strip()[:255] or project_actor.name,
        summary=spec.summary.strip(),
        changelog=spec.changelog.strip(),
        source=spec.description,
        content=spec.content_html
        if spec.content_html is not None
        else render_markdown(spec.description),
        tags={"tags": list(clean_tags(spec.tags))},
        licence={"terms": spec.licence.to_json()},
        licence_text=spec.licence.summary()[:500],
        authors={"authors": list(spec.authors)},
        credits={"credits": list(spec.credits)},
        upstream_uri=spec.upstream_uri,
        needs=spec.needs,
        document={"history": spec.history} if spec.history else None,
    )
    session.add(version)
    await session.flush()
    _add_files(session, version, spec.files)
    # Our versions' files, including those a fork made here keeps on another instance (the
    # worker fetches a copy first); a received version's files stay where they are.
    await queue_thumbnails(
        session,
        [(file.filename, file.sha256) for file in spec.files if local or not file.remote_url],
    )
    project.versions_count = number
    project.latest_version_uri = uri
    project.tags = {
        "tags": list(dict.fromkeys([*project.tags.get("tags", []), *version.tags["tags"]]))
    }
    return version


def _add_files(session: AsyncSession, version: DesignVersion, files: tuple[FileSpec, ...]) -> None:
    # Preview images come first, as Mastodon shows the first attachments.
    ordered = sorted(files, key=lambda f: not f.preview)
    for position, spec in enumerate(ordered):
        session.add(
            VersionFile(
                version_id=version.id,
                position=position,
                filename=spec.filename,
                media_type=spec.media_type,
                size=spec.size,
                sha256=spec.sha256,
                preview=spec.preview,
                remote_url=spec.remote_url,
                cid=spec.cid or StoredBlob(spec.sha256, spec.size).cid,
            )
        )


async def record_cid(session: AsyncSession, sha256: str, cid: str) -> None:
    """Name the CID of files whose bytes we now hold (a remote file over one chunk had none)."""
    await session.execute(
        update(VersionFile)
        .where(VersionFile.sha256 == sha256, VersionFile.cid.is_(None))
        .values(cid=cid)
    )


def licence_of(version: DesignVersion) -> LicenceTerms:
    return LicenceTerms.from_json(version.licence.get("terms"))


def fork_credits(upstream: DesignVersion) -> tuple[str, ...]:
    """The upstream's authors, then its own credit chain: attribution survives every fork."""
    chain = [*upstream.authors.get("authors", []), *upstream.credits.get("credits", [])]
    return tuple(dict.fromkeys(chain))


async def record_fork(
    session: AsyncSession,
    *,
    upstream_uri: str,
    upstream: DesignVersion | None,
    fork_uri: str,
    fork_project_uri: str,
    forked_by: Actor,
) -> None:
    """Note a fork for the `forks` collection (once); `upstream` is the upstream version when
    we have it, whose project then counts the fork and, when local, tells its maintainers
    (`forked_by`: the local forker, or the remote fork's project actor)."""
    if await session.scalar(select(Fork.id).where(Fork.fork_uri == fork_uri)) is not None:
        return
    upstream_project = await project_of(session, upstream) if upstream is not None else None
    session.add(
        Fork(
            upstream_uri=upstream_uri,
            upstream_project_uri=upstream_project[1].uri if upstream_project else None,
            fork_uri=fork_uri,
            fork_project_uri=fork_project_uri,
        )
    )
    if upstream_project is not None:
        upstream_project[0].forks_count += 1
        await notify(session, upstream_project[1], FORK, forked_by, fork_uri)


async def ensure_project(session: AsyncSession, actor: Actor) -> Project:
    """The project row of a (remote) project actor, created when first seen."""
    project = await project_for_actor(session, actor)
    if project is None:
        project = Project(actor_id=actor.id, local=actor.local, tags={"tags": []})
        session.add(project)
        await session.flush()
    return project


async def project_or_404(session: AsyncSession, slug: str) -> tuple[Project, Actor]:
    found = await local_project(session, slug)
    if found is None:
        raise FederationError(f"there is no design project {slug!r:.80} here", status=404)
    return found


PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})


def is_remote_image(file: VersionFile) -> bool:
    return file.remote_url is not None and (file.preview or file.media_type.startswith("image/"))


async def latest_versions(
    session: AsyncSession, project: Project, limit: int
) -> list[DesignVersion]:
    """The project's newest `limit` versions that are not deleted, newest first."""
    rows = await session.scalars(
        select(DesignVersion)
        .where(DesignVersion.project_id == project.id, DesignVersion.deleted_at.is_(None))
        .order_by(DesignVersion.id.desc())
        .limit(limit)
    )
    return list(rows)


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
