"""The pages of a design version and of a project's family tree.

A version's URL is also its ActivityStreams document (web.activitypub.designs); web.app
joins the two by Accept."""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from actors.maker_space import parse_needs
from actors.models import Actor
from objects.blobs import human_bytes
from objects.design_convert import file_url
from objects.design_models import VersionFile
from objects.designs import licence_of, project_or_404
from outbox.maker_spaces import Nearby, maker_spaces_near
from web.instance import instance_of
from web.pages.lineage_svg import MAX_NODES, Lineage, lineage_svg, load_lineage, outline
from web.pages.version_page import (
    VersionPage,
    load_stored_version_page,
    load_version_page,
    web_link,
)
from web.pages.version_rights import licence_view
from web.templating import render_page


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
        makers=await _who_can_make(request, page),
        near={k: request.query_params.get(k, "")[:100] for k in ("town", "region", "country")},
    )


MAX_MAKERS = 10  # maker spaces listed on a version's page


async def _who_can_make(request: Request, page: VersionPage) -> list[Nearby] | None:
    """The maker spaces known here that meet the version's declared needs, nearest to the
    town, region and country the viewer gives (query parameters); None if it declares none."""
    if not page.version.needs:
        return None
    near = {k: request.query_params.get(k, "").strip()[:100] for k in ("town", "region", "country")}
    async with instance_of(request).sessions() as session:
        return await maker_spaces_near(
            session,
            needs=parse_needs(page.version.needs),
            town=near["town"],
            region=near["region"],
            country=near["country"],
            orders_only=False,
            limit=MAX_MAKERS,
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
    Route("/designs/{id:int}", stored_version_html),
    Route("/users/{slug}/lineage", lineage_page),
    Route("/users/{slug}/lineage.svg", lineage_picture),
]
