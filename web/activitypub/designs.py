"""Designs over ActivityPub: version Pages, `forks` and `replies`, and files.

A version's URL is also its HTML page (web.pages.versions): web.app joins the two by
Accept. The collections send a browser to the page they belong to.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.models import Actor
from actors.moderation import visible
from actors.proof_keys import signed_by
from federation.errors import FederationError
from objects.blobs import check_sha256
from objects.design_convert import version_to_as
from objects.design_models import DesignVersion, Fork, VersionFile
from objects.designs import project_or_404, version_files
from objects.notes import replies_page
from objects.thumbnails import page_thumbnail
from web.files import download_response
from web.http import (
    PAGE_SIZE,
    ActivityResponse,
    ordered_collection,
    ordered_page,
)
from web.instance import instance_of
from web.negotiation import see_page, wants_html
from web.request_input import query_int


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
    """The version as an ActivityStreams Page (its HTML page is
    `web.pages.versions.version_html`, joined in web.app)."""
    instance = instance_of(request)
    version, project_actor = await _version(request)
    async with instance.sessions() as session:
        files = await version_files(session, version)
        drawn = await page_thumbnail(session, files)
        page = version_to_as(
            version, project_actor, files, instance.policy, instance.urls.base_url, thumbnail=drawn
        )
        page = await signed_by(session, project_actor, page)
        await session.commit()  # the proof key, when this was its first need
    return ActivityResponse(page, status_code=410 if version.deleted_at else 200)


async def version_replies(request: Request) -> Response:
    version, _ = await _version(request)
    collection = f"{version.uri}/replies"
    if wants_html(request):
        return see_page(f"{version.uri}#comments")
    if "page" not in request.query_params:
        return ActivityResponse(ordered_collection(collection, version.replies_count))
    async with instance_of(request).sessions() as session:
        notes = await replies_page(
            session, version.uri, None, after_id=query_int(request, "min_id"), limit=PAGE_SIZE
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
        if wants_html(request):
            return see_page(actor.uri)
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
        # Ours, or a verified copy of a file a fork made here keeps elsewhere (objects.mirror).
        file = await session.scalar(
            select(VersionFile).where(VersionFile.sha256 == sha256).limit(1)
        )
    blob = await instance.blobs.aget(sha256)
    if file is None or blob is None:
        raise FederationError("there is no such file here", status=404)
    return await download_response(
        instance.blobs,
        blob,
        filename=request.path_params["filename"],
        media_type=file.media_type,
        request=request,
    )


routes = [
    Route("/users/{slug}/versions/{number:int}/replies", version_replies),
    Route("/users/{slug}/forks", forks_collection),
    Route("/files/{sha256}/{filename}", file_download),
]
