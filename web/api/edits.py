"""JSON API: what maintainers change after publishing, namely a version's text and who else
maintains the project. A published version's licence and files never change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from actors.service import get_local_actor
from federation.errors import FederationError
from objects.design_models import DesignVersion, Project, ProjectMaintainer
from objects.designs import (
    files_of,
    get_version,
    is_maintainer,
    licence_of,
    project_of,
    project_or_404,
)
from outbox.designs import TextFix, fix_version_text
from web.api.shapes import maintainers_of, project_json, query_text, text_field, version_json
from web.bearer import token_actor
from web.instance import Instance, instance_of
from web.request_input import json_body
from web.scopes import ScopedRoute

LICENCE_FIELDS = ("licence", "licence_hardware", "licence_documentation", "licence_software")


async def edit_version(request: Request) -> Response:
    """PATCH /api/v1/versions?uri=...: fix the text of a version of a local project."""
    instance = instance_of(request)
    editor = await token_actor(request)
    uri = query_text(request, "uri")
    body = await json_body(request, instance.settings.max_body_bytes)
    fix = _text_fix(body)
    async with instance.sessions() as session:
        version, project_actor = await _editable_version(session, uri, editor)
        _refuse_licence_change(instance, version, body)
        await fix_version_text(session, instance.urls, instance.policy, version, project_actor, fix)
        files = (await files_of(session, [version]))[version.id]
        await session.commit()
    instance.wake_delivery()
    return JSONResponse(
        version_json(version, project_actor, files, instance.policy, instance.urls.base_url)
    )


def _text_fix(body: dict[str, Any]) -> TextFix:
    tags = body.get("tags")
    if tags is not None and not (
        isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
    ):
        raise FederationError("'tags' must be a list of words", status=400)
    fix = TextFix(
        name=text_field(body, "name"),
        summary=text_field(body, "summary"),
        description=text_field(body, "description"),
        tags=tuple(tags) if tags is not None else None,
    )
    if fix == TextFix() and not any(field in body for field in LICENCE_FIELDS):
        raise FederationError(
            "send at least one of 'name', 'summary', 'description' or 'tags'", status=400
        )
    return fix


def _refuse_licence_change(
    instance: Instance, version: DesignVersion, body: dict[str, Any]
) -> None:
    """A licence in the body must be the one the version was published under."""
    given = {field: body[field] for field in LICENCE_FIELDS if field in body}
    if not given:
        return
    value = given.get("licence") or {k.removeprefix("licence_"): v for k, v in given.items()}
    proposed = instance.policy.terms(value)
    instance.policy.check_irrevocable(licence_of(version), proposed, version=version.label)


async def _editable_version(
    session: AsyncSession, uri: str, editor: Actor
) -> tuple[DesignVersion, Actor]:
    missing = FederationError(f"there is no version {uri!r:.200} of a project here", status=404)
    version = await get_version(session, uri)
    if version is None:
        raise missing
    project, project_actor = await project_of(session, version)
    if not project.local:
        raise missing
    if version.deleted_at is not None:
        raise FederationError(f"the version {uri} was deleted", status=410)
    if not await is_maintainer(session, project, editor):
        raise FederationError(
            f"only the maintainers of {project_actor.handle} may edit its versions", status=403
        )
    return version, project_actor


async def add_maintainer(request: Request) -> Response:
    """POST /api/v1/designs/{slug}/maintainers {"username": ...}: a local person joins."""
    instance = instance_of(request)
    maintainer = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    username = (text_field(body, "username", required=True) or "").strip().lstrip("@")
    async with instance.sessions() as session:
        project, project_actor = await _maintained_project(
            session, request.path_params["slug"], maintainer
        )
        person = await get_local_actor(session, username)
        if person is None or person.type != "Person":
            raise FederationError(f"there is no local person {username!r:.80}", status=422)
        if not await is_maintainer(session, project, person):
            session.add(ProjectMaintainer(project_id=project.id, actor_id=person.id))
            await session.flush()
        maintainers = (await maintainers_of(session, [project.id]))[project.id]
        await session.commit()
    return JSONResponse(project_json(project, project_actor, maintainers), status_code=201)


async def _maintained_project(
    session: AsyncSession, slug: str, maintainer: Actor
) -> tuple[Project, Actor]:
    project, actor = await project_or_404(session, slug)
    if not await is_maintainer(session, project, maintainer):
        raise FederationError(
            f"only the maintainers of {actor.handle} may add maintainers", status=403
        )
    return project, actor


routes = [
    ScopedRoute("/api/v1/versions", edit_version, methods=["PATCH"], scope="write"),
    ScopedRoute(
        "/api/v1/designs/{slug}/maintainers", add_maintainer, methods=["POST"], scope="write"
    ),
]
