"""Mastodon's client API for accounts: the signed-in person, profiles, follows and lists.

Account ids are actor row ids as text. Remote follows go through the same outbox code as
POST /api/v1/follows, so they federate the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.lookup import is_url, known_accounts, known_by_handle, resolve_remote
from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, Actor, Follow
from actors.moderation import refuse_blocked, visible
from actors.service import role_of
from federation.errors import FederationError, ValidationError
from objects.hiding import blocks_between
from outbox.c2s import submit
from outbox.models import OutboxActivity
from outbox.profile import (
    form_to_body,
    parse_profile_change,
    save_profile_change,
)
from web.account_json import form_or_json
from web.bearer import token_actor
from web.instance import Instance, instance_of
from web.mastodon.entities import (
    credential_account_entity,
    shown_fields,
)
from web.mastodon.entity_lists import accounts_json, visible_actor
from web.mastodon.paging import (
    NOT_FOUND,
    ids_link_header,
    page_limit,
    query_flag,
    read_id_page,
)
from web.mastodon.relationships import relationship_json, relationships_json
from web.scopes import ScopedRoute, both

NOT_ALLOWED = "This action is not allowed: one of you blocks the other"
DEFAULT_LIMIT = 40
MAX_LIMIT = 80


# Entities


async def account_json(session: AsyncSession, instance: Instance, actor: Actor) -> dict[str, Any]:
    """The account entity with real counts (accepted follows, notes not deleted)."""
    return (await accounts_json(session, instance, [actor]))[0]


async def _count(query: Select[Any], session: AsyncSession) -> int:
    return await session.scalar(query.with_only_columns(func.count())) or 0


async def credential_json(session: AsyncSession, instance: Instance, me: Actor) -> dict[str, Any]:
    role = await role_of(session, me)
    requests = await _count(
        select(Follow).where(Follow.followee_id == me.id, Follow.state == FOLLOW_PENDING), session
    )
    return credential_account_entity(
        await account_json(session, instance, me),
        me,
        fields=shown_fields(me),
        role=role,
        follow_requests=requests,
    )


# Finding accounts


# Routes: the signed-in person


async def verify_credentials(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        return JSONResponse(await credential_json(session, instance, me))


async def update_credentials(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    body = await form_or_json(request, instance.settings.max_body_bytes, form_to_body)
    change = parse_profile_change(body)
    async with instance.sessions() as session:
        actor = await save_profile_change(session, instance.urls, me.id, change)
        await session.commit()
        entity = await credential_json(session, instance, actor)
    instance.wake_delivery()
    return JSONResponse(entity)


# Routes: any account


async def get_account(request: Request) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        actor = await visible_actor(session, request.path_params["id"])
        return JSONResponse(await account_json(session, instance, actor))


async def lookup(request: Request) -> Response:
    instance = instance_of(request)
    acct = request.query_params.get("acct", "").strip().lstrip("@")
    if not acct:
        raise ValidationError("add the query parameter ?acct=user or ?acct=user@host")
    async with instance.sessions() as session:
        actor = await known_by_handle(session, instance, acct)
    if actor is None and "@" in acct:
        actor = await resolve_remote(instance, acct)
    if actor is None or actor.suspended_at is not None:
        raise FederationError(NOT_FOUND, status=404)
    async with instance.sessions() as session:
        return JSONResponse(await account_json(session, instance, actor))


async def search(request: Request) -> Response:
    instance = instance_of(request)
    query = request.query_params.get("q", "").strip().lstrip("@")
    limit = _limit(request)
    if not query:
        return JSONResponse([])
    found = await _search_resolved(request, instance, query)
    async with instance.sessions() as session:
        if found is None:
            found_rows = await _search_known(session, query, limit)
        else:
            found_rows = [found]
        return JSONResponse(await accounts_json(session, instance, found_rows))


async def _search_resolved(request: Request, instance: Instance, query: str) -> Actor | None:
    """With resolve=true and a token, a handle or URL is looked up on its server."""
    wants = query_flag(request, "resolve")
    if not wants or "authorization" not in request.headers:
        return None
    await token_actor(request)
    if "@" not in query and not is_url(query):
        return None
    async with instance.sessions() as session:
        known = await known_by_handle(session, instance, query) if "@" in query else None
    return known or await resolve_remote(instance, query)


async def _search_known(session: AsyncSession, query: str, limit: int) -> list[Actor]:
    return list(await session.scalars(known_accounts(query).limit(limit)))


async def relationships(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    ids = request.query_params.getlist("id[]") or request.query_params.getlist("id")
    wanted = [int(i) for i in ids[:MAX_LIMIT] if i.isdigit() and len(i) <= 18]
    async with instance.sessions() as session:
        return JSONResponse(await relationships_json(session, me, wanted))


def _limit(request: Request) -> int:
    return page_limit(request, DEFAULT_LIMIT, MAX_LIMIT)


# Routes: follower lists, paged as Mastodon pages (ids of the follows, Link headers)


async def followers(request: Request) -> Response:
    return await _follow_list(request, followers=True)


async def following(request: Request) -> Response:
    return await _follow_list(request, followers=False)


async def _follow_list(request: Request, *, followers: bool) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        actor = await visible_actor(session, request.path_params["id"])
        rows = await _follow_page(session, request, actor, followers=followers)
        accounts = await accounts_json(session, instance, [other for _, other in rows])
    # Unlike the status pages', the links keep no other query parameters.
    headers = ids_link_header(
        request,
        [follow_id for follow_id, _ in rows],
        default=DEFAULT_LIMIT,
        maximum=MAX_LIMIT,
        keep_filters=False,
    )
    return JSONResponse(accounts, headers=headers)


async def _follow_page(
    session: AsyncSession, request: Request, actor: Actor, *, followers: bool
) -> Sequence[tuple[int, Actor]]:
    mine, theirs = (
        (Follow.followee_id, Follow.follower_id)
        if followers
        else (Follow.follower_id, Follow.followee_id)
    )
    query = (
        select(Follow.id, Actor)
        .join(Actor, Actor.id == theirs)
        .where(mine == actor.id, Follow.state == FOLLOW_ACCEPTED, visible())
    )
    # With min_id: the page just after it, oldest first, then shown newest first like the others.
    return await read_id_page(
        session, request, query, Follow.id, default=DEFAULT_LIMIT, maximum=MAX_LIMIT
    )


# Routes: following and unfollowing


async def follow(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        target = await visible_actor(session, request.path_params["id"])
        if await blocks_between(session, me.id, target.id):
            raise FederationError(NOT_ALLOWED, status=403)
    refuse_blocked(instance.blocks, target)
    async with instance.sessions() as session:
        await submit(session, instance.resolver, me, {"type": "Follow", "object": target.uri})
        await session.commit()
        relationship = await relationship_json(session, me, target.id)
    instance.wake_delivery()
    return JSONResponse(relationship)


async def unfollow(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        target = await visible_actor(session, request.path_params["id"])
        follow_uri = await session.scalar(
            select(Follow.uri).where(Follow.follower_id == me.id, Follow.followee_id == target.id)
        )
        if follow_uri is not None and await _sent_by(session, me, follow_uri):
            await submit(session, instance.resolver, me, {"type": "Undo", "object": follow_uri})
            await session.commit()
        relationship = await relationship_json(session, me, target.id)
    instance.wake_delivery()
    return JSONResponse(relationship)


async def _sent_by(session: AsyncSession, me: Actor, uri: str) -> bool:
    """Whether the follow went out through our outbox, which an Undo needs."""
    found = await session.scalar(
        select(OutboxActivity.id).where(OutboxActivity.uri == uri, OutboxActivity.actor_id == me.id)
    )
    return found is not None


routes: list[BaseRoute] = [
    *both(
        "/api/v1/accounts/verify_credentials",
        verify_credentials,
        methods=["GET"],
        scope=("read:accounts", "profile"),
    ),
    ScopedRoute(
        "/api/v1/accounts/update_credentials",
        update_credentials,
        methods=["PATCH"],
        scope="write:accounts",
    ),
    ScopedRoute("/api/v1/accounts/lookup", lookup, methods=["GET"], scope="read:accounts"),
    ScopedRoute("/api/v1/accounts/search", search, methods=["GET"], scope="read:accounts"),
    ScopedRoute(
        "/api/v1/accounts/relationships", relationships, methods=["GET"], scope="read:follows"
    ),
    ScopedRoute("/api/v1/accounts/{id}", get_account, methods=["GET"], scope="read:accounts"),
    ScopedRoute(
        "/api/v1/accounts/{id}/followers", followers, methods=["GET"], scope="read:accounts"
    ),
    ScopedRoute(
        "/api/v1/accounts/{id}/following", following, methods=["GET"], scope="read:accounts"
    ),
    ScopedRoute("/api/v1/accounts/{id}/follow", follow, methods=["POST"], scope="write:follows"),
    ScopedRoute(
        "/api/v1/accounts/{id}/unfollow", unfollow, methods=["POST"], scope="write:follows"
    ),
]
