"""Finding a design version by URI: ours, one we stored, or fetched (origin-checked),
admitted (`objects.admission`) and stored.

Network first, then a short transaction of our own: no session is held while fetching.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import ValidationError
from objects.admission import AdmittedVersion, admit_remote_version, store_remote_version
from objects.design_models import DesignVersion
from objects.designs import get_version, project_of
from objects.licences import LicencePolicy


async def fetch_remote_version(
    sessions: async_sessionmaker[AsyncSession],
    resolver: ActorResolver,
    policy: LicencePolicy,
    uri: str,
) -> AdmittedVersion:
    """Fetch a remote design version and admit it, without storing it (only its project
    actor is stored): what a fork's dry run judges."""
    doc = await resolver.fetch_document(uri)
    return await admit_remote_version(sessions, resolver, policy, doc)


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
    """Store a design version from `resolver.fetch_document` (so its id is its URL), if the
    admission lets it in: a refusal raises (LicenceError: 422) and stores nothing."""
    admitted = await admit_remote_version(sessions, resolver, policy, doc)
    try:
        async with sessions() as session:
            actor = await session.get(Actor, admitted.project_actor_id)
            assert actor is not None
            version = await store_remote_version(session, actor, admitted)
            await session.commit()
            return version, actor
    except IntegrityError:  # stored concurrently: read it back
        async with sessions() as session:
            found = await _with_project(session, await get_version(session, admitted.uri))
        if found is None:
            raise
        return found


async def _with_project(
    session: AsyncSession, version: DesignVersion | None
) -> tuple[DesignVersion, Actor] | None:
    if version is None:
        return None
    return version, (await project_of(session, version))[1]
