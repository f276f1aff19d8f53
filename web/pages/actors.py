"""The HTML pages of local actors: a person's profile and a design project's page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from actors.collections import count_follows
from actors.models import Actor, Follow
from actors.moderation import visible
from objects.design_models import DesignVersion, Project, ProjectMaintainer
from objects.designs import project_for_actor
from objects.makes import makes_of
from web.browser import signed_in
from web.instance import instance_of
from web.pages.design_cards import CardFilters, card_images, latest_designs
from web.request_input import local_actor_or_404
from web.templating import render_page

VERSIONS_SHOWN = 50
MAKES_SHOWN = 20  # the newest makes of all its versions, on a project's page
RECENT_VERSIONS = 10


async def follow_state(session: AsyncSession, viewer: Actor | None, actor: Actor) -> str | None:
    """ "pending" or "accepted" when the viewer follows `actor`, else None."""
    if viewer is None or viewer.id == actor.id:
        return None
    return await session.scalar(
        select(Follow.state).where(Follow.follower_id == viewer.id, Follow.followee_id == actor.id)
    )


async def actor_page(
    request: Request, actor: Actor, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    """A project's page when the actor is a design project, else a person's profile;
    `error` is shown by the "follow from your instance" form."""
    viewer = await signed_in(request)
    async with instance_of(request).sessions() as session:
        project = await project_for_actor(session, actor)
        common = {
            "actor": actor,
            "followers": await count_follows(session, actor, followers=True),
            "follow_state": await follow_state(session, viewer, actor),
            "follow_error": error,
            "return_to": request.url.path,
        }
        if project is not None:
            response = await _project_page(request, session, project, status, common)
        else:
            response = await _person_page(request, session, actor, status, common)
    return response


async def _project_page(
    request: Request,
    session: AsyncSession,
    project: Project,
    status: int,
    common: dict[str, object],
) -> HTMLResponse:
    versions = list(
        await session.scalars(
            select(DesignVersion)
            .where(DesignVersion.project_id == project.id, DesignVersion.deleted_at.is_(None))
            .order_by(DesignVersion.id.desc())
            .limit(VERSIONS_SHOWN)
        )
    )
    maintainers = await session.scalars(
        select(Actor)
        .join(ProjectMaintainer, ProjectMaintainer.actor_id == Actor.id)
        .where(ProjectMaintainer.project_id == project.id, visible())
        .order_by(Actor.id)
    )
    images = await card_images(
        session, [v.id for v in versions[:1]], instance_of(request).urls.base_url
    )
    upstream = await _upstream(session, project.upstream_uri)
    return await render_page(
        request,
        "project.html",
        status,
        project=project,
        versions=versions,
        maintainers=list(maintainers),
        image_url=images.get(versions[0].id) if versions else None,
        upstream=upstream,
        makes=await makes_of(session, project, limit=MAKES_SHOWN),
        **common,
    )


async def _upstream(
    session: AsyncSession, uri: str | None
) -> tuple[str, DesignVersion | None, Actor | None] | None:
    """The version a project was forked from: its URI, and the version and its project's
    actor when we know them."""
    if uri is None:
        return None
    row = (
        await session.execute(
            select(DesignVersion, Actor)
            .join(Project, Project.id == DesignVersion.project_id)
            .join(Actor, Actor.id == Project.actor_id)
            .where(DesignVersion.uri == uri)
        )
    ).first()
    return (uri, row[0], row[1]) if row is not None else (uri, None, None)


async def _person_page(
    request: Request, session: AsyncSession, actor: Actor, status: int, common: dict[str, object]
) -> HTMLResponse:
    base_url = instance_of(request).urls.base_url
    cards, _ = await latest_designs(session, CardFilters(maintainer_id=actor.id), base_url)
    recent = await session.execute(
        select(DesignVersion, Actor)
        .join(Project, Project.id == DesignVersion.project_id)
        .join(Actor, Actor.id == Project.actor_id)
        .join(ProjectMaintainer, ProjectMaintainer.project_id == Project.id)
        .where(
            ProjectMaintainer.actor_id == actor.id, DesignVersion.deleted_at.is_(None), visible()
        )
        .order_by(DesignVersion.id.desc())
        .limit(RECENT_VERSIONS)
    )
    return await render_page(
        request,
        "person.html",
        status,
        cards=cards,
        recent=[(version, project) for version, project in recent.all()],
        following=await count_follows(session, actor, followers=False),
        **common,
    )


async def actor_html(request: Request) -> Response:
    """The page of the local person or project the path names (its ActivityStreams document
    is `web.activitypub.endpoints.actor_document`)."""
    return await actor_page(request, await local_actor_or_404(request))
