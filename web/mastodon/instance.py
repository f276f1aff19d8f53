"""Mastodon's instance entities (`/api/v1/instance`, `/api/v2/instance`) and the avatar of
accounts that have none.

They report the facts NodeInfo and the about page report too (web.instance_facts).
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from objects.media_files import MAX_PIXELS
from outbox.c2s import MAX_MEDIA
from outbox.comments import MAX_COMMENT_CHARS
from outbox.coop import (
    coop_fields,
)
from web.instance import Instance, instance_of
from web.instance_facts import InstanceFacts, instance_facts, nodeinfo_metadata, registrations
from web.mastodon.entities import MASTODON_API_LEVEL, VERSION_STRING, account_entity, rule_entities
from web.scopes import PUBLIC, both

# What apps count down from: the limit posting actually applies.
MAX_CHARACTERS = MAX_COMMENT_CHARS
# A 1x1 transparent PNG: Mastodon apps expect every account to have an avatar URL that loads.
MISSING_AVATAR = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _streaming_url(instance: Instance) -> str:
    scheme = "wss" if instance.settings.scheme == "https" else "ws"
    return f"{scheme}://{instance.urls.host}"


def _coop_account(instance: Instance, facts: InstanceFacts) -> dict[str, Any] | None:
    if facts.coop is None:
        return None
    return account_entity(
        facts.coop,
        instance.urls,
        followers=facts.coop_followers,
        fields=coop_fields(instance.settings),
    )


def _configuration() -> dict[str, Any]:
    return {
        "statuses": {
            "max_characters": MAX_CHARACTERS,
            "max_media_attachments": MAX_MEDIA,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": ["image/png", "image/jpeg", "image/gif", "image/webp"],
            "image_size_limit": 16_777_216,
            "image_matrix_limit": MAX_PIXELS,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "translation": {"enabled": False},
    }


async def _facts_of(request: Request, **counts: bool) -> tuple[Instance, InstanceFacts]:
    instance = instance_of(request)
    async with instance.sessions() as session:
        return instance, await instance_facts(session, instance, **counts)


async def instance_v2(request: Request) -> Response:
    instance, facts = await _facts_of(request)
    settings = instance.settings
    regs = registrations(instance)
    return JSONResponse(
        {
            "domain": instance.urls.host,
            "title": settings.instance_name,
            "version": VERSION_STRING,
            # The API level we implement, which clients read instead of parsing `version`:
            # level 2 brings grouped notifications (/api/v2/notifications), which we do not
            # serve, so apps that see 2 (Phanpy, Mastodon.py) would call a missing route.
            "api_versions": {"mastodon": MASTODON_API_LEVEL},
            "source_url": settings.source_url,
            "description": settings.coop_description,
            "usage": {"users": {"active_month": facts.users}},
            "thumbnail": {"url": f"{instance.urls.base_url}/avatars/missing.png"},
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": _streaming_url(instance)},
                **_configuration(),
            },
            "registrations": {
                "enabled": regs["enabled"],
                "approval_required": regs["approval_required"],
                "message": regs["message"],
                "url": None,
            },
            "contact": {
                "email": settings.coop_contact_email,
                "account": _coop_account(instance, facts),
            },
            "rules": rule_entities(instance.settings),
            "ourdesign": nodeinfo_metadata(instance, facts),
        }
    )


async def instance_v1(request: Request) -> Response:
    instance, facts = await _facts_of(request, count_posts=True, count_domains=True)
    settings = instance.settings
    regs = registrations(instance)
    return JSONResponse(
        {
            "uri": instance.urls.host,
            "title": settings.instance_name,
            "short_description": settings.coop_description,
            "description": settings.coop_description,
            "email": settings.coop_contact_email,
            "version": VERSION_STRING,
            "urls": {"streaming_api": _streaming_url(instance)},
            "stats": {
                "user_count": facts.users,
                "status_count": facts.local_posts,
                "domain_count": facts.domains,
            },
            "thumbnail": f"{instance.urls.base_url}/avatars/missing.png",
            "languages": ["en"],
            "registrations": regs["enabled"],
            "approval_required": regs["approval_required"],
            "invites_enabled": regs["invites_enabled"],
            "configuration": _configuration(),
            "contact_account": _coop_account(instance, facts),
            "rules": rule_entities(instance.settings),
        }
    )


async def missing_avatar(request: Request) -> Response:
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(MISSING_AVATAR, media_type="image/png", headers=headers)


routes = [
    *both("/api/v1/instance", instance_v1, scope=PUBLIC),
    *both("/api/v2/instance", instance_v2, scope=PUBLIC),
    Route("/avatars/missing.png", missing_avatar),
    # Mastodon's path for an account without a header image: apps load it like any other.
    Route("/headers/original/missing.png", missing_avatar),
]
