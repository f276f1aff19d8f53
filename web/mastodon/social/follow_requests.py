"""Mastodon's follow requests: the people waiting for a locked person, who authorizes or
rejects each. The answer is the relationship with that account, as on Mastodon."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.models import Actor, Follow
from outbox.follow_requests import authorize, reject, waiting_followers
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.entities import relationship_entity
from web.mastodon.entity_lists import accounts_json
from web.mastodon.paging import NOT_FOUND, ids_link_header, read_id_page
from web.request_input import whole_id
from web.scopes import ScopedRoute, both

DEFAULT_LIMIT = 40
MAX_LIMIT = 80


async def follow_requests(request: Request) -> Response:
    """People waiting for the signed-in person to accept their follow, newest first."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        rows = await read_id_page(
            session,
            request,
            waiting_followers(me),
            Follow.id,
            default=DEFAULT_LIMIT,
            maximum=MAX_LIMIT,
        )
        accounts = await accounts_json(session, instance, [actor for _, actor in rows])
    headers = ids_link_header(
        request,
        [follow_id for follow_id, _ in rows],
        default=DEFAULT_LIMIT,
        maximum=MAX_LIMIT,
        keep_filters=False,
    )
    return JSONResponse(accounts, headers=headers)


async def authorize_request(request: Request) -> Response:
    return await _answer(request, accept=True)


async def reject_request(request: Request) -> Response:
    return await _answer(request, accept=False)


async def _answer(request: Request, *, accept: bool) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    follower_id = whole_id(request.path_params["id"], NOT_FOUND)
    decide = authorize if accept else reject
    async with instance.sessions() as session:
        follower = await decide(session, instance.urls, me, follower_id)
        await session.commit()
        relationship = await _relationship(session, me, follower)
    instance.wake_delivery()
    return JSONResponse(relationship)


async def _relationship(session: AsyncSession, me: Actor, other: Actor) -> dict[str, Any]:
    """How `me` stands with the account just answered, both ways."""

    async def state(follower: Actor, followee: Actor) -> str | None:
        return await session.scalar(
            select(Follow.state).where(
                Follow.follower_id == follower.id, Follow.followee_id == followee.id
            )
        )

    return relationship_entity(
        other.id, following=await state(me, other), followed_by=await state(other, me)
    )


routes: list[BaseRoute] = [
    *both("/api/v1/follow_requests", follow_requests, methods=["GET"], scope="read:follows"),
    ScopedRoute(
        "/api/v1/follow_requests/{id}/authorize",
        authorize_request,
        methods=["POST"],
        scope="write:follows",
    ),
    ScopedRoute(
        "/api/v1/follow_requests/{id}/reject",
        reject_request,
        methods=["POST"],
        scope="write:follows",
    ),
]
