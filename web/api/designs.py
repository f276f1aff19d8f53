"""The JSON API for designs: projects, versions, forks, comments, follows and lineage.

Bearer tokens (`ourdesign token create NAME`) authenticate the writes; reads are public.
Errors are `{"error": "..."}` with a status (see docs/API.md). Remote lookups happen
before a handler opens its one writing session, and every refusal is raised before that
session commits, so bad input changes nothing. `web.api.openapi` describes all of it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from actors.service import ConflictError
from federation.errors import FederationError
from objects.design_models import Project
from objects.designs import (
    create_project,
    files_of,
    get_version,
    is_maintainer,
    project_of,
    project_or_404,
)
from objects.licences import LicenceTerms
from objects.lineage import ancestors, descendants
from objects.search import search_projects
from objects.upload_checks import check_name
from objects.upload_quota import upload_quota
from outbox.designs import ForkRequest
from web.api.shapes import (
    comment_json,
    maintainers_of,
    project_filters,
    project_json,
    project_of_actor,
    project_with_versions,
    query_text,
    text_field,
    version_json,
)
from web.bearer import token_actor
from web.design_actions import (
    add_published_version,
    follow_actor,
    fork_refusal,
    fork_request,
    fork_upstream,
    post_comment,
    refuse_deleted,
    store_fork,
)
from web.design_upload import (
    check_file_parts,
    check_upload,
    declared_needs,
    upload_licence,
    version_spec,
)
from web.instance import Instance, instance_of
from web.okh_import import okh_fields
from web.openapi_schema import openapi_document
from web.request_input import json_body
from web.scopes import PUBLIC, ScopedRoute
from web.uploads import read_upload
from web.version_form import kept_from_upload

# Projects


async def create_design(request: Request) -> Response:
    instance = instance_of(request)
    owner = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    slug = text_field(body, "slug", required=True) or ""
    name = text_field(body, "name") or slug
    check_name(name)
    summary = text_field(body, "summary") or ""
    try:
        async with instance.sessions() as session:
            project, actor = await create_project(
                session, instance.urls, owner, slug=slug.strip(), name=name, summary=summary
            )
            await session.commit()
    except IntegrityError as exc:
        raise ConflictError(f"the handle {slug!r} was taken just now") from exc
    return JSONResponse(project_json(project, actor, [owner.uri]), status_code=201)


async def list_designs(request: Request) -> Response:
    instance = instance_of(request)
    filters = project_filters(request, instance.policy)
    async with instance.sessions() as session:
        rows = await search_projects(session, filters)
        maintainers = await maintainers_of(session, [project.id for project, _ in rows])
    items = [project_json(p, a, maintainers[p.id]) for p, a in rows]
    headers = {}
    if len(rows) == filters.limit:
        params = dict(request.query_params) | {"max_id": rows[-1][0].id, "limit": filters.limit}
        headers["Link"] = (
            f'<{instance.urls.base_url}/api/v1/designs?{urlencode(params)}>; rel="next"'
        )
    return JSONResponse(items, headers=headers)


async def get_design(request: Request) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        project, actor = await project_or_404(session, request.path_params["slug"])
        doc = await project_with_versions(
            session, project, actor, instance.policy, instance.urls.base_url
        )
    return JSONResponse(doc)


async def get_design_by_uri(request: Request) -> Response:
    instance = instance_of(request)
    uri = query_text(request, "uri")
    async with instance.sessions() as session:
        found = await project_of_actor(session, uri)
        if found is None:
            raise FederationError(f"no design project {uri!r:.200} is known here", status=404)
        doc = await project_with_versions(
            session,
            found[0],
            found[1],
            instance.policy,
            instance.urls.base_url,
            reject_media=instance.blocks.rejects_media(found[1].domain),
        )
    return JSONResponse(doc)


# Versions


async def publish_design_version(request: Request) -> Response:
    instance = instance_of(request)
    maintainer = await token_actor(request)
    async with instance.sessions() as session:
        project, project_actor = await project_or_404(session, request.path_params["slug"])
        if not await is_maintainer(session, project, maintainer):
            raise FederationError(
                f"only the maintainers of {project_actor.handle} may publish versions", status=403
            )
    settings = instance.settings
    upload = await read_upload(
        request,
        instance.blobs,
        quota=await upload_quota(
            instance.sessions, maintainer, settings.default_upload_quota_bytes
        ),
        max_file_bytes=settings.max_file_bytes,
        max_total_bytes=settings.max_version_bytes,
    )
    async with upload:  # anything raised before commit() discards the staged files
        okh = okh_fields(upload)  # an uploaded okh.toml fills what was left blank
        needs = declared_needs(upload, okh)
        licence = upload_licence(instance.policy, upload, okh)
        check_file_parts(upload)
        kept = await kept_from_upload(instance.sessions, project, upload)
        await check_upload(instance.sandbox, upload, kept)
        stored = await upload.commit()
    spec = version_spec(upload, licence, maintainer, stored, kept, okh, needs)
    try:
        async with instance.sessions() as session:
            project_row = await session.get(Project, project.id)
            assert project_row is not None
            version, files = await add_published_version(
                session, instance, project_row, project_actor, spec
            )
            await session.commit()
    except IntegrityError as exc:
        raise ConflictError("another version was published at the same moment; retry") from exc
    instance.wake_delivery()
    doc = version_json(version, project_actor, files, instance.policy, instance.urls.base_url)
    return JSONResponse(doc, status_code=201, headers={"Location": version.uri})


async def get_design_version(request: Request) -> Response:
    instance = instance_of(request)
    uri = query_text(request, "uri")
    async with instance.sessions() as session:
        version = await get_version(session, uri)
        if version is None:
            raise FederationError(f"no design version {uri!r:.200} is known here", status=404)
        refuse_deleted(version)
        _, actor = await project_of(session, version)
        _refuse_hidden(actor, uri)
        files = (await files_of(session, [version]))[version.id]
    reject_media = instance.blocks.rejects_media(actor.domain)
    doc = version_json(
        version, actor, files, instance.policy, instance.urls.base_url, reject_media=reject_media
    )
    return JSONResponse(doc)


def _refuse_hidden(project_actor: Actor, uri: str) -> None:
    """A suspended (or deleted) project's versions are not shown, as if we never had them."""
    if project_actor.suspended_at is not None or project_actor.deleted_at is not None:
        raise FederationError(f"no design version {uri!r:.200} is known here", status=404)


# Forks


async def create_fork(request: Request) -> Response:
    instance = instance_of(request)
    forker = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    upstream_uri = text_field(body, "upstream", required=True) or ""
    instance.blocks.check(upstream_uri)
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise FederationError("'dry_run' must be true or false", status=400)
    value = body.get("licence")
    licence = instance.policy.terms(value) if value not in (None, "", {}) else None
    if dry_run:
        return await _fork_check(instance, forker, upstream_uri, licence)
    slug = text_field(body, "slug", required=True) or ""
    name = text_field(body, "name")
    request_ = await fork_request(instance, forker, upstream_uri, slug, name, licence)
    return await _publish_fork(instance, request_)


async def _publish_fork(instance: Instance, request: ForkRequest) -> Response:
    project, actor, version, files = await store_fork(instance, request)
    doc = {
        "project": project_json(project, actor, [request.forker.uri]),
        "version": version_json(version, actor, files, instance.policy, instance.urls.base_url),
    }
    return JSONResponse(doc, status_code=201, headers={"Location": version.uri})


async def _fork_check(
    instance: Instance, forker: Actor, upstream_uri: str, licence: LicenceTerms | None
) -> Response:
    """Would this fork be allowed? Nothing is stored (a fetched upstream is not kept)."""
    _, upstream_terms = await fork_upstream(instance, upstream_uri)
    chosen = licence or upstream_terms
    reason = fork_refusal(instance, forker, upstream_terms, chosen)
    return JSONResponse({"allowed": reason is None, "reason": reason, "licence": chosen.to_json()})


async def create_comment(request: Request) -> Response:
    instance = instance_of(request)
    author = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    parent_uri = text_field(body, "in_reply_to", required=True) or ""
    content = text_field(body, "content", required=True) or ""
    summary = text_field(body, "summary")
    note = await post_comment(instance, author, parent_uri, content, summary)
    return JSONResponse(comment_json(note, author), status_code=201, headers={"Location": note.uri})


async def create_follow(request: Request) -> Response:
    instance = instance_of(request)
    follower = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    target, state = await follow_actor(
        instance, follower, text_field(body, "target", required=True) or ""
    )
    return JSONResponse({"following": target.uri, "state": state}, status_code=202)


async def lineage(request: Request) -> Response:
    instance = instance_of(request)
    uri = query_text(request, "version")
    async with instance.sessions() as session:
        version = await get_version(session, uri)
        if version is None:
            raise FederationError(f"no design version {uri!r:.200} is known here", status=404)
        _, actor = await project_of(session, version)
        _refuse_hidden(actor, uri)
        ancestry = await ancestors(session, uri)
        tree = await descendants(session, actor.uri)
    return JSONResponse(
        {
            "version": uri,
            "ancestors": ancestry.chain,
            "unknown_upstream": ancestry.unknown_upstream,
            "descendants": tree.as_dict(),
        }
    )


async def openapi(request: Request) -> Response:
    """The whole description: web.app puts every face's fragment in `app.state.openapi`."""
    fragments = request.app.state.openapi
    return JSONResponse(openapi_document(instance_of(request).urls.base_url, fragments))


routes = [
    ScopedRoute("/api/v1/openapi.json", openapi, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/api/v1/designs", list_designs, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/api/v1/designs", create_design, methods=["POST"], scope="write"),
    ScopedRoute("/api/v1/designs/by-uri", get_design_by_uri, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/api/v1/designs/{slug}", get_design, methods=["GET"], scope=PUBLIC),
    ScopedRoute(
        "/api/v1/designs/{slug}/versions", publish_design_version, methods=["POST"], scope="write"
    ),
    ScopedRoute("/api/v1/versions", get_design_version, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/api/v1/forks", create_fork, methods=["POST"], scope="write"),
    ScopedRoute("/api/v1/comments", create_comment, methods=["POST"], scope="write:statuses"),
    ScopedRoute("/api/v1/follows", create_follow, methods=["POST"], scope="write:follows"),
    ScopedRoute("/api/v1/lineage", lineage, methods=["GET"], scope=PUBLIC),
]
