"""Mastodon's blocks, mutes and a person's domain blocks.

The changes (and the `Block` they federate) are `outbox.relations`; hiding what a person
blocked or muted from their timelines, notifications and threads is `objects.hiding`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from actors.moderation import visible
from actors.relation_models import AccountBlock, AccountMute, PersonDomainBlock
from federation.db import utcnow
from federation.errors import ValidationError
from outbox import relations
from web.bearer import token_actor
from web.instance import Instance, instance_of
from web.mastodon.entity_lists import accounts_json, visible_actor
from web.mastodon.forms import app_params
from web.mastodon.paging import ids_link_header, read_id_page
from web.mastodon.relationships import relationship_json
from web.scopes import ScopedRoute

DEFAULT_LIMIT = 40
MAX_LIMIT = 80
DOMAIN_DEFAULT_LIMIT = 100
DOMAIN_MAX_LIMIT = 200
MAX_MUTE_SECONDS = 10 * 366 * 24 * 3600
TRUE = ("true", "1", "on", "yes")
FALSE = ("false", "0", "off", "no", "")


def _flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE + FALSE:
        return value.lower() in TRUE
    raise ValidationError(f"{name!r} must be true or false")


def _duration(params: dict[str, Any]) -> dt.datetime | None:
    """When a mute ends: `duration` seconds from now; 0 or none, never."""
    value = params.get("duration")
    if value is None or value == "":
        return None
    seconds = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        seconds = int(value)
    if seconds is None or not 0 <= seconds <= MAX_MUTE_SECONDS:
        raise ValidationError("'duration' must be a number of seconds (0: until unmuted)")
    return utcnow() + dt.timedelta(seconds=seconds) if seconds else None


Change = Callable[[AsyncSession, Instance, Actor, Actor], Awaitable[None]]


async def _change(request: Request, change: Change, *, federates: bool) -> Response:
    """Apply `change(session, instance, me, target)` and answer the new relationship."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        target = await visible_actor(session, request.path_params["id"])
        if target.id == me.id:
            raise ValidationError("you cannot do this to your own account")
        await change(session, instance, me, target)
        await session.commit()
        relationship = await relationship_json(session, me, target.id)
    if federates:
        instance.wake_delivery()
    return JSONResponse(relationship)


async def block(request: Request) -> Response:
    async def change(session: AsyncSession, instance: Instance, me: Actor, target: Actor) -> None:
        await relations.block(session, instance.urls, me, target)

    return await _change(request, change, federates=True)


async def unblock(request: Request) -> Response:
    async def change(session: AsyncSession, instance: Instance, me: Actor, target: Actor) -> None:
        await relations.unblock(session, instance.urls, me, target)

    return await _change(request, change, federates=True)


async def mute(request: Request) -> Response:
    params = await app_params(request, instance_of(request).settings.max_body_bytes)
    notifications = _flag(params, "notifications", True)
    expires_at = _duration(params)

    async def change(session: AsyncSession, instance: Instance, me: Actor, target: Actor) -> None:
        await relations.mute(
            session, me, target, notifications=notifications, expires_at=expires_at
        )

    return await _change(request, change, federates=False)


async def unmute(request: Request) -> Response:
    async def change(session: AsyncSession, instance: Instance, me: Actor, target: Actor) -> None:
        await relations.unmute(session, me, target)

    return await _change(request, change, federates=False)


async def blocks(request: Request) -> Response:
    """The accounts the person blocks, the latest first."""
    me = await token_actor(request)
    query = (
        select(AccountBlock.id, Actor)
        .join(Actor, Actor.id == AccountBlock.target_id)
        .where(AccountBlock.actor_id == me.id, visible())
    )
    return await _account_page(request, query, AccountBlock.id)


async def mutes(request: Request) -> Response:
    """The accounts the person mutes (mutes that ended are not listed), the latest first."""
    me = await token_actor(request)
    query = (
        select(AccountMute.id, Actor)
        .join(Actor, Actor.id == AccountMute.target_id)
        .where(AccountMute.actor_id == me.id, visible())
        .where((AccountMute.expires_at.is_(None)) | (AccountMute.expires_at > utcnow()))
    )
    return await _account_page(request, query, AccountMute.id)


async def _account_page(request: Request, query: Any, column: Any) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        rows = await read_id_page(
            session, request, query, column, default=DEFAULT_LIMIT, maximum=MAX_LIMIT
        )
        accounts = await accounts_json(session, instance, [actor for _, actor in rows])
    headers = ids_link_header(
        request,
        [row_id for row_id, _ in rows],
        default=DEFAULT_LIMIT,
        maximum=MAX_LIMIT,
        keep_filters=False,
    )
    return JSONResponse(accounts, headers=headers)


# A person's domain blocks


def _domain(params: dict[str, Any], local_host: str) -> str:
    """The `domain` parameter as accounts carry it: lower case, with its port if any."""
    value = params.get("domain")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("'domain' is required: the domain to hide (example: spam.example)")
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).netloc
    domain = text.rpartition("@")[2].rstrip(".").rstrip("/")
    if not domain or len(domain) > 255 or any(c in domain for c in " /?#\\\"'<>"):
        raise ValidationError(f"{value[:80]!r} is not a domain name (example: spam.example)")
    if domain == local_host.lower():
        raise ValidationError("you cannot hide this instance's own domain")
    return domain


async def domain_blocks(request: Request) -> Response:
    """The domains the person hides, the latest first (strings, as Mastodon lists them)."""
    me = await token_actor(request)
    query = select(PersonDomainBlock.id, PersonDomainBlock.domain).where(
        PersonDomainBlock.actor_id == me.id
    )
    limits = {"default": DOMAIN_DEFAULT_LIMIT, "maximum": DOMAIN_MAX_LIMIT}
    async with instance_of(request).sessions() as session:
        rows = await read_id_page(session, request, query, PersonDomainBlock.id, **limits)
    headers = ids_link_header(request, [row_id for row_id, _ in rows], keep_filters=False, **limits)
    return JSONResponse([domain for _, domain in rows], headers=headers)


async def block_domain(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    domain = _domain(params, instance.urls.host)
    async with instance.sessions() as session:
        await relations.block_domain(session, instance.urls, me, domain)
        await session.commit()
    instance.wake_delivery()
    return JSONResponse({})


async def unblock_domain(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    domain = _domain(params, instance.urls.host)
    async with instance.sessions() as session:
        await relations.unblock_domain(session, me, domain)
        await session.commit()
    return JSONResponse({})


routes = [
    ScopedRoute("/api/v1/accounts/{id}/block", block, methods=["POST"], scope="write:blocks"),
    ScopedRoute("/api/v1/accounts/{id}/unblock", unblock, methods=["POST"], scope="write:blocks"),
    ScopedRoute("/api/v1/accounts/{id}/mute", mute, methods=["POST"], scope="write:mutes"),
    ScopedRoute("/api/v1/accounts/{id}/unmute", unmute, methods=["POST"], scope="write:mutes"),
    ScopedRoute("/api/v1/blocks", blocks, methods=["GET"], scope="read:blocks"),
    ScopedRoute("/api/v1/mutes", mutes, methods=["GET"], scope="read:mutes"),
    ScopedRoute("/api/v1/domain_blocks", domain_blocks, methods=["GET"], scope="read:blocks"),
    ScopedRoute("/api/v1/domain_blocks", block_domain, methods=["POST"], scope="write:blocks"),
    ScopedRoute("/api/v1/domain_blocks", unblock_domain, methods=["DELETE"], scope="write:blocks"),
]
