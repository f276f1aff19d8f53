"""What the instance reports about itself, gathered once per request: NodeInfo
(web.activitypub.wellknown), Mastodon's instance entities (web.mastodon.instance) and the
about page (web.pages.about) all show the same facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from objects.models import Note
from outbox.coop import (
    coop_actor,
    member_count,
)
from web.instance import Instance


@dataclass(frozen=True)
class InstanceFacts:
    """`local_posts` and `domains` are counted only when asked for (else 0)."""

    coop: Actor | None
    users: int
    local_posts: int
    domains: int
    coop_followers: int

    @property
    def coop_handle(self) -> str | None:
        return self.coop.handle if self.coop is not None else None


async def instance_facts(
    session: AsyncSession,
    instance: Instance,
    *,
    count_posts: bool = False,
    count_domains: bool = False,
) -> InstanceFacts:
    coop = await coop_actor(session, instance.settings)
    users = await member_count(session)
    posts = domains = None
    if count_posts:
        # Counted per local author on the live-notes index, not by scanning every note.
        posts = await session.scalar(
            select(func.count())
            .select_from(Note)
            .join(Actor, Actor.id == Note.actor_id)
            .where(Actor.local.is_(True), Note.deleted_at.is_(None))
        )
    if count_domains:
        domains = await session.scalar(
            select(func.count(func.distinct(Actor.domain))).where(Actor.local.is_(False))
        )
    followers: int | None = 0
    if coop is not None:
        followers = await session.scalar(
            select(func.count())
            .select_from(Follow)
            .where(Follow.followee_id == coop.id, Follow.state == FOLLOW_ACCEPTED)
        )
    return InstanceFacts(coop, users, posts or 0, domains or 0, followers or 0)


def registrations(instance: Instance) -> dict[str, Any]:
    mode = instance.settings.registration_mode
    messages = {
        "open": "Anyone may join.",
        "approval": "Tell us why you want to join; a moderator reviews each request.",
        "invite": "Joining needs an invite link from a member.",
        "closed": "This cooperative is not taking new members here.",
    }
    return {
        "mode": mode,
        "enabled": mode in ("open", "approval"),
        "approval_required": mode == "approval",
        "invites_enabled": mode != "closed",
        "message": messages[mode],
    }


def nodeinfo_metadata(instance: Instance, facts: InstanceFacts) -> dict[str, Any]:
    settings = instance.settings
    return {
        "nodeName": settings.instance_name,
        "nodeDescription": settings.coop_description,
        "organization": {
            "name": settings.coop_display_name,
            "entityKind": settings.coop_entity_kind,
            "account": facts.coop.uri if facts.coop else None,
            "contact": settings.coop_contact_email or None,
        },
        "rules": list(settings.coop_rules),
        "registrations": registrations(instance),
        "defaultLicense": settings.default_license,
    }


# Client libraries parse the version as Mastodon's; the part in parentheses says what we are.
MASTODON_COMPATIBLE = "4.3.0"
