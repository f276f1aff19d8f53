"""Finding a design version by URI: ours, one we stored, or fetched (origin-checked) and stored.

Network first, then a short transaction of our own: no session is held while fetching.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import ValidationError
from objects.design_convert import design_project_uri, is_design, parse_remote_version
from objects.design_models import DesignVersion
from objects.designs import VersionSpec, get_version, project_of, store_remote_version
from objects.licences import LicencePolicy


async def fetch_remote_version(
    resolver: ActorResolver, policy: LicencePolicy, uri: str
) -> tuple[VersionSpec, Actor]:
    """Fetch and validate a remote design version and its project actor (nothing stored
    but the actor)."""
    return await _version_and_project(resolver, policy, await resolver.fetch_document(uri))


async def _version_and_project(
    resolver: ActorResolver, policy: LicencePolicy, doc: dict[str, Any]
) -> tuple[VersionSpec, Actor]:
    if not is_design(doc):
        raise ValidationError(f"{doc.get('id')} is not a design version (a Page with a licence)")
    spec = parse_remote_version(doc, policy)
    project_uri = design_project_uri(doc)
    assert project_uri is not None  # parse_remote_version checked it
    return spec, await resolver.get_actor(project_uri)


async def find_or_fetch_version(
    sessions: async_sessionmaker[AsyncSession],
    resolver: ActorResolver,
    policy: LicencePolicy,
    uri: str,
) -> tuple[DesignVersion, Actor]:
    """The version and its project actor, fetching and storing a remote one if needed."""
    async with sessions() as session:
        found = await _with_project(session, await get_version(session, uri))
    if found is not None:
        return found
    if resolver.urls.is_local(uri):
        raise ValidationError(f"there is no design version {uri}", status=404)
    doc = await resolver.fetch_document(uri)
    return await store_fetched_version(sessions, resolver, policy, doc)


async def store_fetched_version(
    sessions: async_sessionmaker[AsyncSession],
    resolver: ActorResolver,
    policy: LicencePolicy,
    doc: dict[str, Any],
) -> tuple[DesignVersion, Actor]:
    """Store a design version from `resolver.fetch_document` (so its id is its URL)."""
    spec, project_actor = await _version_and_project(resolver, policy, doc)
    assert spec.uri is not None
    try:
        async with sessions() as session:
            actor = await session.get(Actor, project_actor.id)
            assert actor is not None
            version = await store_remote_version(session, actor, spec)
            await session.commit()
            return version, actor
    except IntegrityError:  # stored concurrently: read it back
        async with sessions() as session:
            found = await _with_project(session, await get_version(session, spec.uri))
        if found is None:
            raise
        return found


async def _with_project(
    session: AsyncSession, version: DesignVersion | None
) -> tuple[DesignVersion, Actor] | None:
    if version is None:
        return None
    return version, (await project_of(session, version))[1]
