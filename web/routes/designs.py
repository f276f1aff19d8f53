"""Designs over ActivityPub: project actors, version Pages, `forks` and `replies`, and files.

Every URL serves ActivityStreams JSON to ActivityPub clients and HTML to browsers.
"""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from actors.models import Actor
from actors.moderation import visible
from actors.proof_keys import signed_by
from federation.errors import FederationError
from objects.blobs import check_sha256, human_bytes
from objects.design_convert import file_url, version_to_as
from objects.design_models import DesignVersion, Fork, VersionFile
from objects.designs import licence_of, project_or_404, version_files
from objects.notes import replies_page
from objects.thumbnails import page_thumbnail
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
from web.lineage_svg import MAX_NODES, Lineage, lineage_svg, load_lineage, outline
from web.negotiation import see_page, wants_html
from web.pages import render_page
from web.version_page import VersionPage, load_stored_version_page, load_version_page, web_link
from web.version_rights import licence_view


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
    if not wants_activity_json(request):
        return await version_html(request)
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


async def version_html(request: Request) -> Response:
    """The version's page: preview first, then the licence in plain words, the credit
    chain, the files and the comments."""
    instance = instance_of(request)
    async with instance.sessions() as session:
        page = await load_version_page(
            session, request.path_params["slug"], request.path_params["number"], instance.blobs
        )
    return await _version_page(request, page)


async def stored_version_html(request: Request) -> Response:
    """A version from another instance, shown here (GET /designs/{id}): people comment on
    it and fork it from their own instance. Ours redirect to their own address."""
    instance = instance_of(request)
    async with instance.sessions() as session:
        page = await load_stored_version_page(session, request.path_params["id"], instance.blobs)
    if page.version.local:
        return RedirectResponse(page.version.uri, status_code=301)
    return await _version_page(request, page)


async def _version_page(request: Request, page: VersionPage) -> Response:
    instance = instance_of(request)
    version = page.version
    if version.deleted_at is not None:
        return await render_page(request, "version.html", status=410, page=page, deleted=True)
    return await render_page(
        request,
        "version.html",
        page=page,
        deleted=False,
        licence=licence_view(instance.policy, licence_of(version)),
        files=[file_row(instance.urls.base_url, file) for file in page.files],
        previews=[
            file_row(instance.urls.base_url, file)
            for file in page.files
            if file.preview and file.media_type.startswith("image/")
        ],
        fork_href="/fork?from=" + quote(version.uri, safe=""),
        lineage_href=f"/users/{page.project_actor.username}/lineage" if version.local else None,
        comment_target=_reply_target(request, page),
        return_to=request.url.path,
    )


def file_row(base_url: str, file: VersionFile) -> dict[str, str]:
    return {
        "name": file.filename,
        "size": human_bytes(file.size),
        "bytes": str(file.size),
        "media_type": file.media_type,
        "sha256": file.sha256,
        "cid": file.cid or "",
        "url": web_link(file_url(base_url, file)),
    }


def _reply_target(request: Request, page: VersionPage) -> str:
    """What the comment form answers: a comment of this page named by `?reply_to=`, else
    the version (one form on the page; a reply link only changes what it answers)."""
    wanted = request.query_params.get("reply_to")
    stack = list(page.comments)
    while stack and wanted:
        comment = stack.pop()
        if comment.uri == wanted and not comment.deleted:
            return comment.uri
        stack.extend(comment.replies)
    return page.version.uri


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


async def _lineage(request: Request) -> tuple[Lineage, Actor]:
    async with instance_of(request).sessions() as session:
        project, actor = await project_or_404(session, request.path_params["slug"])
        return await load_lineage(session, actor, project), actor


async def lineage_page(request: Request) -> Response:
    """The family tree: the picture, and the same tree as a list for screen readers."""
    lineage, actor = await _lineage(request)
    return await render_page(
        request,
        "lineage.html",
        project=actor,
        lineage=lineage,
        picture=Markup(lineage_svg(lineage)),
        outline=outline(lineage.root),
        max_nodes=MAX_NODES,
    )


async def lineage_picture(request: Request) -> Response:
    lineage, _ = await _lineage(request)
    return Response(
        lineage_svg(lineage),
        media_type="image/svg+xml",
        # Presentation attributes only: the picture needs nothing, not even styles.
        headers={"Content-Security-Policy": "default-src 'none'"},
    )


routes = [
    Route("/users/{slug}/versions/{number:int}", version_document),
    Route("/designs/{id:int}", stored_version_html),
    Route("/users/{slug}/lineage", lineage_page),
    Route("/users/{slug}/lineage.svg", lineage_picture),
    Route("/users/{slug}/versions/{number:int}/replies", version_replies),
    Route("/users/{slug}/forks", forks_collection),
    Route("/files/{sha256}/{filename}", file_download),
]
