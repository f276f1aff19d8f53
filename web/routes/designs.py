"""Designs over ActivityPub: project actors, version Pages, `forks` and `replies`, and files.

Every URL serves ActivityStreams JSON to ActivityPub clients and HTML to browsers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.models import Actor
from actors.moderation import visible
from federation.errors import FederationError
from federation.vocab import PROJECT_CONTEXT
from objects.blobs import check_sha256
from objects.design_convert import version_to_as
from objects.design_models import DesignVersion, Fork, Project, VersionFile
from objects.designs import licence_of, local_project, version_files
from objects.notes import replies_page
from web.files import blob_response
from web.http import (
    PAGE_SIZE,
    ActivityResponse,
    ordered_collection,
    ordered_page,
    query_int,
    wants_activity_json,
)
from web.instance import instance_of
from web.pages import render


def project_document(doc: dict[str, Any], project: Project) -> dict[str, Any]:
    """A project actor's document: a `Service` (Mastodon follows it) that says what it is."""
    extra = {
        "designProject": True,
        "forks": f"{doc['id']}/forks",
        "forkedFrom": project.upstream_uri,
    }
    return {**doc, "@context": PROJECT_CONTEXT, **{k: v for k, v in extra.items() if v is not None}}


async def project_or_404(session: AsyncSession, slug: str) -> tuple[Project, Actor]:
    found = await local_project(session, slug)
    if found is None:
        raise FederationError(f"there is no design project {slug!r:.80} here", status=404)
    return found


async def _version(request: Request) -> tuple[DesignVersion, Actor]:
    instance = instance_of(request)
    async with instance.sessions() as session:
        project, actor = await project_or_404(session, request.path_params["slug"])
        version = await session.scalar(
            select(DesignVersion).where(
                DesignVersion.project_id == project.id,
                DesignVersion.number == request.path_params["number"],
            )
        )
    if version is None:
        raise FederationError("this project has no such version", status=404)
    return version, actor


async def version_document(request: Request) -> Response:
    instance = instance_of(request)
    version, project_actor = await _version(request)
    async with instance.sessions() as session:
        files = await version_files(session, version)
    page = version_to_as(version, project_actor, files, instance.policy, instance.urls.base_url)
    if wants_activity_json(request):
        return ActivityResponse(page, status_code=410 if version.deleted_at else 200)
    licence = licence_of(version)
    return render(
        request,
        "version.html",
        version=version,
        project=project_actor,
        files=page.get("files", []),
        licence_summary=licence.summary(),
        commercial_use=instance.policy.commercial_use(licence),
        who_may_fork=instance.policy.who_may_fork(licence),
    )


async def version_replies(request: Request) -> Response:
    version, _ = await _version(request)
    collection = f"{version.uri}/replies"
    if "page" not in request.query_params:
        return ActivityResponse(ordered_collection(collection, version.replies_count))
    async with instance_of(request).sessions() as session:
        notes = await replies_page(
            session, version.uri, after_id=query_int(request, "min_id"), limit=PAGE_SIZE
        )
    next_cursor = notes[-1].id if len(notes) == PAGE_SIZE else None
    items = [note.uri for note in notes]
    return ActivityResponse(
        ordered_page(collection, str(request.url), items, next_cursor, "min_id")
    )


async def forks_collection(request: Request) -> Response:
    async with instance_of(request).sessions() as session:
        project, actor = await project_or_404(session, request.path_params["slug"])
        collection = f"{actor.uri}/forks"
        if "page" not in request.query_params:
            return ActivityResponse(ordered_collection(collection, project.forks_count))
        hidden = select(Actor.uri).where(~visible())
        query = select(Fork).where(
            Fork.upstream_project_uri == actor.uri, Fork.fork_project_uri.not_in(hidden)
        )
        before = query_int(request, "max_id")
        if before is not None:
            query = query.where(Fork.id < before)
        forks = list(await session.scalars(query.order_by(Fork.id.desc()).limit(PAGE_SIZE)))
    next_cursor = forks[-1].id if len(forks) == PAGE_SIZE else None
    items = [fork.fork_uri for fork in forks]
    return ActivityResponse(
        ordered_page(collection, str(request.url), items, next_cursor, "max_id")
    )


async def file_download(request: Request) -> Response:
    instance = instance_of(request)
    sha256 = check_sha256(request.path_params["sha256"])
    async with instance.sessions() as session:
        file = await session.scalar(
            select(VersionFile)
            .where(VersionFile.sha256 == sha256, VersionFile.remote_url.is_(None))
            .limit(1)
        )
    blob = instance.blobs.get(sha256)
    if file is None or blob is None:
        raise FederationError("there is no such file here", status=404)
    return blob_response(
        instance.blobs,
        blob,
        filename=request.path_params["filename"],
        media_type=file.media_type,
        request=request,
    )


routes = [
    Route("/users/{slug}/versions/{number:int}", version_document),
    Route("/users/{slug}/versions/{number:int}/replies", version_replies),
    Route("/users/{slug}/forks", forks_collection),
    Route("/files/{sha256}/{filename}", file_download),
]
