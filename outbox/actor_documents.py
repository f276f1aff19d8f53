"""Every local actor's ActivityStreams document, built in one place.

A person's and the instance actor's are `actors.convert.actor_to_as`; a design project's
adds what it is (`objects.design_convert.project_document`); the cooperative's adds its
members and rules (`outbox.coop.coop_document`). Whoever serves or sends an actor's
document asks here, so the four never drift apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.convert import actor_to_as
from actors.models import Actor
from federation.settings import Settings
from federation.urls import LocalUrls
from objects.design_convert import project_document
from objects.design_models import PROJECT_ACTOR_TYPE
from objects.designs import project_for_actor
from outbox.coop import ORGANIZATION, coop_document


async def actor_document(
    session: AsyncSession, actor: Actor, urls: LocalUrls, settings: Settings
) -> dict[str, Any]:
    """The document of `actor`, one of ours: a person, a project, the cooperative or the
    instance actor."""
    if actor.type == ORGANIZATION:
        return coop_document(actor, urls, settings)
    doc = actor_to_as(actor, urls)
    if actor.type == PROJECT_ACTOR_TYPE:
        project = await project_for_actor(session, actor)
        if project is not None:
            return project_document(doc, project)
    return doc
