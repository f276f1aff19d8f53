"""Entities in the shapes of Mastodon's client API (docs.joinmastodon.org/entities)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from actors.convert import profile_fields
from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, ROLES, Actor
from federation.http import SOFTWARE_VERSION
from federation.settings import Settings
from federation.urls import LocalUrls, web_url_or_none
from objects.convert import iso_ms
from objects.html import plain_text
from web.instance_facts import MASTODON_COMPATIBLE

# `api_versions.mastodon`: 1 until grouped notifications (API level 2) are served.
MASTODON_API_LEVEL = 1
VERSION_STRING = f"{MASTODON_COMPATIBLE} (compatible; OurDesign {SOFTWARE_VERSION})"


def shown_fields(actor: Actor) -> list[tuple[str, str]]:
    """Profile fields plus the entity kind, which Mastodon apps show (and edit) as a field."""
    kind = [("Entity kind", actor.entity_kind)] if actor.entity_kind != "unknown" else []
    return profile_fields(actor) + kind


def account_entity(
    actor: Actor,
    urls: LocalUrls,
    *,
    followers: int = 0,
    following: int = 0,
    statuses: int = 0,
    fields: list[tuple[str, str]] | None = None,
    last_status_at: dt.datetime | None = None,
) -> dict[str, Any]:
    acct = actor.username if actor.local else actor.handle
    avatar = f"{urls.base_url}/avatars/missing.png"  # served by web.mastodon.instance
    header = f"{urls.base_url}/headers/original/missing.png"  # likewise, Mastodon's path
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": acct,
        "display_name": actor.name or actor.username,
        "locked": actor.manually_approves_followers,
        "bot": actor.type in ("Service", "Application"),
        "group": actor.type == "Group",
        "discoverable": True,
        "created_at": iso_ms(actor.created_at),
        "note": actor.summary,
        "url": web_url_or_none(actor.url) or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        # A date, as Mastodon gives it (the time of day would tell more than apps need).
        "last_status_at": last_status_at.astimezone(dt.UTC).date().isoformat()
        if last_status_at
        else None,
        "emojis": [],
        "fields": [{"name": n, "value": v, "verified_at": None} for n, v in fields or []],
    }


def credential_account_entity(
    account: dict[str, Any],
    actor: Actor,
    *,
    fields: list[tuple[str, str]],
    role: str,
    follow_requests: int,
) -> dict[str, Any]:
    """The signed-in person's own account: the public entity plus what they edit (`source`)."""
    return {
        **account,
        "source": {
            "note": plain_text(actor.summary),
            "fields": [{"name": n, "value": v, "verified_at": None} for n, v in fields],
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "follow_requests_count": follow_requests,
        },
        "role": {"id": str(ROLES.index(role)), "name": role, "permissions": "0", "color": ""},
    }


@dataclass(frozen=True)
class Standing:
    """What the signed-in person chose about an account, and it about them."""

    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    domain_blocking: bool = False


def relationship_entity(
    actor_id: int,
    *,
    following: str | None,
    followed_by: str | None,
    standing: Standing = Standing(),
) -> dict[str, Any]:
    """How the signed-in person and one account stand; `following` and `followed_by` are
    follow states (pending or accepted) or None."""
    return {
        "id": str(actor_id),
        "following": following == FOLLOW_ACCEPTED,
        "showing_reblogs": following == FOLLOW_ACCEPTED,
        "notifying": False,
        "languages": None,
        "followed_by": followed_by == FOLLOW_ACCEPTED,
        "blocking": standing.blocking,
        "blocked_by": standing.blocked_by,
        "muting": standing.muting,
        "muting_notifications": standing.muting_notifications,
        "requested": following == FOLLOW_PENDING,
        "requested_by": followed_by == FOLLOW_PENDING,
        "domain_blocking": standing.domain_blocking,
        "endorsed": False,
        "note": "",
    }


def rule_entities(settings: Settings) -> list[dict[str, str]]:
    """The instance's rules as Mastodon's Rule entities (ids are their positions)."""
    return [
        {"id": str(n), "text": rule, "hint": ""} for n, rule in enumerate(settings.coop_rules, 1)
    ]
