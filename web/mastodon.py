"""Entities in the shapes of Mastodon's client API (docs.joinmastodon.org/entities)."""

from __future__ import annotations

from typing import Any

from actors.models import Actor
from federation.http import SOFTWARE_VERSION
from federation.urls import LocalUrls
from objects.convert import iso

# Client libraries parse the version as Mastodon's; the part in parentheses says what we are.
MASTODON_COMPATIBLE = "4.3.0"
VERSION_STRING = f"{MASTODON_COMPATIBLE} (compatible; OurDesign {SOFTWARE_VERSION})"


def account_entity(
    actor: Actor,
    urls: LocalUrls,
    *,
    followers: int = 0,
    following: int = 0,
    statuses: int = 0,
    fields: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    acct = actor.username if actor.local else actor.handle
    avatar = f"{urls.base_url}/static/avatar.png"
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": acct,
        "display_name": actor.name or actor.username,
        "locked": actor.manually_approves_followers,
        "bot": actor.type in ("Service", "Application"),
        "group": actor.type == "Group",
        "discoverable": True,
        "created_at": iso(actor.created_at),
        "note": actor.summary,
        "url": actor.url or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": "",
        "header_static": "",
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        "last_status_at": None,
        "emojis": [],
        "fields": [{"name": n, "value": v, "verified_at": None} for n, v in fields or []],
    }
