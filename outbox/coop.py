"""The cooperative that runs the instance, as a followable `Organization` actor.

Its name, description, rules, contact and entity kind come from the settings; they are
written onto the actor row at every start, and followers get an `Update` when they change.
The cooperative boosts its members' new designs (when `coop_boosts_member_designs` is on),
and moderators can boost or un-boost any design by hand.
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.convert import actor_to_as
from actors.models import Account, Actor
from actors.moderation import visible
from actors.service import get_local_actor, new_local_actor
from federation.errors import FederationError, ValidationError
from federation.settings import Settings
from federation.urls import LocalUrls
from federation.vocab import ACTOR_TERMS, AS_CONTEXT, KEY_CONTEXTS
from objects.design_models import DesignVersion, Project
from objects.designs import VersionSpec, get_version, project_of
from objects.html import text_to_html
from objects.licences import LicencePolicy
from objects.models import ANNOUNCE, Interaction
from objects.notes import add_interaction
from outbox import activities
from outbox.c2s import undo_sent
from outbox.designs import ForkRequest, fork, publish_version
from outbox.models import OutboxActivity
from outbox.publish import publish

ORGANIZATION = "Organization"
COOP_TERMS: dict[str, object] = {
    **ACTOR_TERMS,
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "members": {"@id": "od:members", "@type": "@id"},
    "rules": {"@id": "od:rules", "@container": "@list"},
}
COOP_CONTEXT: list[object] = [AS_CONTEXT, *KEY_CONTEXTS, COOP_TERMS]


def members_url(urls: LocalUrls, coop: Actor) -> str:
    return f"{urls.actor(coop.username)}/members"


async def ensure_coop_actor(
    session: AsyncSession, urls: LocalUrls, settings: Settings
) -> tuple[Actor, bool]:
    """The cooperative's actor, created on first start; True when the settings changed it."""
    actor = await get_local_actor(session, settings.coop_username)
    created = actor is None
    if actor is None:
        actor = new_local_actor(urls, settings.coop_username, actor_type=ORGANIZATION)
        session.add(actor)
    elif actor.type != ORGANIZATION:
        raise ValidationError(
            f"the cooperative's user name {settings.coop_username!r} belongs to a person or"
            " project already; choose another with OURDESIGN_COOP_USERNAME"
        )
    wanted = {
        "name": settings.coop_display_name,
        "summary": coop_summary(settings),
        "entity_kind": settings.coop_entity_kind,
    }
    changed = any(getattr(actor, key) != value for key, value in wanted.items())
    for key, value in wanted.items():
        setattr(actor, key, value)
    await session.flush()
    return actor, changed and not created


async def announce_coop_update(session: AsyncSession, urls: LocalUrls, settings: Settings) -> None:
    """Tell the cooperative's followers its profile changed."""
    coop = await coop_actor(session, settings)
    if coop is not None:
        doc = coop_document(coop, urls, settings)
        await publish(session, urls, coop, activities.update_actor(urls, coop, doc))


def coop_summary(settings: Settings) -> str:
    """The profile text: the description, then the rules as a numbered list."""
    summary = text_to_html(settings.coop_description)
    if settings.coop_rules:
        items = "".join(f"<li>{html.escape(rule)}</li>" for rule in settings.coop_rules)
        summary += f"<p>Rules:</p><ol>{items}</ol>"
    return summary


def coop_fields(settings: Settings) -> list[tuple[str, str]]:
    """The cooperative's profile fields, as Mastodon shows them."""
    fields = [("Entity kind", settings.coop_entity_kind)]
    if settings.coop_contact_email:
        fields.append(("Contact", settings.coop_contact_email))
    return fields


def coop_document(actor: Actor, urls: LocalUrls, settings: Settings) -> dict[str, Any]:
    """The Organization actor document: a Mastodon-readable profile plus our own terms."""
    doc = actor_to_as(actor, urls)
    return {
        **doc,
        "@context": COOP_CONTEXT,
        "attachment": [
            {"type": "PropertyValue", "name": name, "value": html.escape(value)}
            for name, value in coop_fields(settings)
        ],
        "members": members_url(urls, actor),
        "rules": list(settings.coop_rules),
    }


async def coop_actor(session: AsyncSession, settings: Settings) -> Actor | None:
    actor = await get_local_actor(session, settings.coop_username)
    return actor if actor is not None and actor.type == ORGANIZATION else None


def members_query() -> Any:
    """Local people who are members: approved accounts that are not suspended."""
    return (
        select(Actor)
        .join(Account, Account.actor_id == Actor.id)
        .where(Actor.local.is_(True), Account.approved.is_(True), visible())
    )


async def member_count(session: AsyncSession) -> int:
    query = members_query().with_only_columns(func.count())
    return int(await session.scalar(query) or 0)


# --- boosts ------------------------------------------------------------------------------------


async def boost(
    session: AsyncSession, urls: LocalUrls, settings: Settings, version_uri: str
) -> bool:
    """The cooperative Announces a design version it knows; False if it had already."""
    coop = await _coop_or_error(session, settings)
    version = await get_version(session, version_uri)
    if version is None or version.deleted_at is not None:
        raise FederationError(
            f"there is no design version {version_uri} here; fetch it first", status=404
        )
    _, author = await project_of(session, version)
    return await _announce(session, urls, coop, version, author)


async def _announce(
    session: AsyncSession, urls: LocalUrls, coop: Actor, version: DesignVersion, author: Actor
) -> bool:
    activity = activities.announce(urls, coop, version.uri, author)
    if not await add_interaction(session, ANNOUNCE, activity["id"], coop, version.uri):
        return False
    inboxes = () if author.local else (author.delivery_inbox,)
    await publish(session, urls, coop, activity, also_inboxes=inboxes)
    return True


async def unboost(
    session: AsyncSession, urls: LocalUrls, settings: Settings, version_uri: str
) -> bool:
    """Undo the cooperative's Announce of the version; False if it had not boosted it."""
    coop = await _coop_or_error(session, settings)
    original = await session.scalar(
        select(OutboxActivity)
        .join(Interaction, Interaction.uri == OutboxActivity.uri)
        .where(
            Interaction.actor_id == coop.id,
            Interaction.kind == ANNOUNCE,
            Interaction.object_uri == version_uri,
        )
    )
    if original is None:
        return False
    await undo_sent(session, urls, coop, original)
    return True


async def boost_member_design(
    session: AsyncSession,
    urls: LocalUrls,
    settings: Settings,
    version: DesignVersion,
    project_actor: Actor,
) -> None:
    """Called when a member publishes `version` of `project_actor`'s design: boost it if
    the cooperative is set up to (the caller holds both, so nothing is fetched again)."""
    if settings.coop_boosts_member_designs:
        coop = await _coop_or_error(session, settings)
        await _announce(session, urls, coop, version, project_actor)


async def publish_member_version(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    settings: Settings,
    project: Project,
    project_actor: Actor,
    spec: VersionSpec,
) -> DesignVersion:
    """A member publishes a version of their design (the JSON API and the form alike), and
    the cooperative boosts it when it is set up to, in the caller's transaction."""
    version, _ = await publish_version(session, urls, policy, project, project_actor, spec)
    await boost_member_design(session, urls, settings, version, project_actor)
    return version


async def fork_as_member(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    settings: Settings,
    request: ForkRequest,
) -> tuple[Project, Actor, DesignVersion]:
    """A member forks a design (`outbox.designs.fork`), and the cooperative boosts the fork
    as it boosts any member's new design, in the caller's transaction."""
    project, actor, version = await fork(session, urls, policy, request)
    await boost_member_design(session, urls, settings, version, actor)
    return project, actor, version


async def _coop_or_error(session: AsyncSession, settings: Settings) -> Actor:
    coop = await coop_actor(session, settings)
    if coop is None:
        raise FederationError("this instance has no cooperative actor yet; restart it", status=503)
    return coop


async def set_up_coop(
    sessions: async_sessionmaker[AsyncSession], urls: LocalUrls, settings: Settings
) -> None:
    """At start: create or update the cooperative's actor (a `worker` may race us to it)."""
    try:
        async with sessions() as session:
            _, changed = await ensure_coop_actor(session, urls, settings)
            if changed:
                await announce_coop_update(session, urls, settings)
            await session.commit()
    except IntegrityError:
        return
