"""The instance and its cooperative: /about, Mastodon's instance entities, members, boosts.

NodeInfo (web/routes/wellknown.py), `/api/v1/instance`, `/api/v2/instance` and `/about` all
report the same facts, gathered once per request by `instance_facts`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.moderation import record_audit
from federation.errors import ValidationError
from objects.media_files import MAX_PIXELS
from objects.models import Note
from outbox.c2s import MAX_MEDIA
from outbox.comments import MAX_COMMENT_CHARS
from web.blocklists import public_block_entries
from web.coop import (
    boost,
    coop_actor,
    coop_fields,
    member_count,
    members_query,
    members_url,
    unboost,
)
from web.http import (
    ActivityResponse,
    json_body,
    ordered_collection,
    ordered_page,
    query_int,
    staff_actor,
)
from web.instance import Instance, instance_of
from web.mastodon import MASTODON_API_LEVEL, VERSION_STRING, account_entity, rule_entities
from web.negotiation import see_page, wants_html
from web.pages import render
from web.routes import both
from web.scopes import PUBLIC, ScopedRoute

# What apps count down from: the limit posting actually applies.
MAX_CHARACTERS = MAX_COMMENT_CHARS
MEMBERS_PAGE = 50
# A 1x1 transparent PNG: Mastodon apps expect every account to have an avatar URL that loads.
MISSING_AVATAR = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


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


def _streaming_url(instance: Instance) -> str:
    scheme = "wss" if instance.settings.scheme == "https" else "ws"
    return f"{scheme}://{instance.urls.host}"


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


async def about(request: Request) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        facts = await instance_facts(session, instance)
        blocks = await public_block_entries(session)
    settings = instance.settings
    return render(
        request,
        "about.html",
        settings=settings,
        facts=facts,
        registrations=registrations(instance),
        blocks=blocks,
    )


async def members(request: Request) -> Response:
    """The cooperative's members as an OrderedCollection of actor URIs (newest first)."""
    instance = instance_of(request)
    async with instance.sessions() as session:
        coop = await coop_actor(session, instance.settings)
        if coop is None or coop.username != request.path_params["username"]:
            return JSONResponse({"error": "only the cooperative has a members list"}, 404)
        collection_id = members_url(instance.urls, coop)
        if wants_html(request):
            return see_page(coop.uri)
        if "page" not in request.query_params:
            total = await member_count(session)
            return ActivityResponse(ordered_collection(collection_id, total))
        before = query_int(request, "max_id")
        query = members_query().order_by(Actor.id.desc()).limit(MEMBERS_PAGE + 1)
        if before is not None:
            query = query.where(Actor.id < before)
        rows = list((await session.scalars(query)).all())
    more = len(rows) > MEMBERS_PAGE
    rows = rows[:MEMBERS_PAGE]
    page_id = str(request.url)
    next_cursor = rows[-1].id if more else None
    items = [actor.uri for actor in rows]
    return ActivityResponse(ordered_page(collection_id, page_id, items, next_cursor, "max_id"))


async def create_boost(request: Request) -> Response:
    """A moderator has the cooperative boost a design version (local or already fetched)."""
    instance = instance_of(request)
    moderator = await staff_actor(request)
    uri = _version_uri(await json_body(request, instance.settings.max_body_bytes))
    async with instance.sessions() as session:
        created = await boost(session, instance.urls, instance.settings, uri)
        if created:
            await record_audit(session, moderator, "coop.boost", "version", uri)
        await session.commit()
    instance.wake_delivery()
    return JSONResponse({"boosted": uri}, status_code=201 if created else 200)


async def delete_boost(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    uri = _version_uri(dict(request.query_params))
    async with instance.sessions() as session:
        undone = await unboost(session, instance.urls, instance.settings, uri)
        if undone:
            await record_audit(session, moderator, "coop.unboost", "version", uri)
        await session.commit()
    if not undone:
        return JSONResponse({"error": f"the cooperative has not boosted {uri}"}, 404)
    instance.wake_delivery()
    return JSONResponse({"unboosted": uri})


def _version_uri(body: dict[str, Any]) -> str:
    uri = body.get("uri")
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        raise ValidationError("give 'uri': the URL of a design version this instance knows")
    return uri


async def missing_avatar(request: Request) -> Response:
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(MISSING_AVATAR, media_type="image/png", headers=headers)


routes = [
    Route("/about", about),
    *both("/api/v1/instance", instance_v1, scope=PUBLIC),
    *both("/api/v2/instance", instance_v2, scope=PUBLIC),
    Route("/users/{username}/members", members),
    ScopedRoute("/api/v1/coop/boosts", create_boost, methods=["POST"], scope="admin:write"),
    ScopedRoute("/api/v1/coop/boosts", delete_boost, methods=["DELETE"], scope="admin:write"),
    Route("/avatars/missing.png", missing_avatar),
    # Mastodon's path for an account without a header image: apps load it like any other.
    Route("/headers/original/missing.png", missing_avatar),
]
