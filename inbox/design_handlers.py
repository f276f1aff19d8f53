"""Handlers for designs received through federation, each given the version as admitted
(`objects.admission`, by `inbox.design_admission` before the worker's transaction).

A version arrives as Create(Page) from its project actor. When it forks one of our versions,
or a comment replies to one, our project Announces it to its followers: following a project
is how people see its new versions, forks and comments.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.db import utcnow
from inbox.context import HandlerContext
from objects.admission import AdmittedVersion, insert_remote_version
from objects.design_models import DesignVersion
from objects.designs import get_version, project_of
from outbox.designs import announce_from_project_of


async def on_create_design(
    ctx: HandlerContext, session: AsyncSession, admitted: AdmittedVersion, actor: Actor
) -> None:
    if admitted.project_actor_uri != actor.uri:
        return  # versions come from their project actor; anything else is not ours to store
    if await get_version(session, admitted.uri) is not None:
        return  # delivered again: announced already
    version = await insert_remote_version(session, actor, admitted)
    if version.upstream_uri:
        await announce_from_project_of(session, ctx.urls, version.upstream_uri, version.uri)


async def on_update_design(
    ctx: HandlerContext, session: AsyncSession, admitted: AdmittedVersion, actor: Actor
) -> None:
    """Text fixes only: the admission refused a licence change before we got here."""
    version = await _owned_version(session, admitted.uri, actor)
    if version is None or version.deleted_at is not None:
        return
    spec = admitted.spec
    version.name, version.summary = spec.name, spec.summary
    version.content = spec.content_html or ""
    version.tags = {"tags": list(spec.tags)}
    version.edited_at = utcnow()


async def on_delete_design(session: AsyncSession, uri: str, actor: Actor) -> bool:
    version = await _owned_version(session, uri, actor)
    if version is None:
        return False
    version.deleted_at = version.deleted_at or utcnow()
    return True


async def _owned_version(session: AsyncSession, uri: str, actor: Actor) -> DesignVersion | None:
    version = await get_version(session, uri)
    if version is None:
        return None
    project, _ = await project_of(session, version)
    return version if project.actor_id == actor.id else None
