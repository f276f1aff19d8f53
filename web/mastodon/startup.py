"""What Mastodon apps ask for when they start: emojis, filters, lists, preferences, trends...

Most of these are features we do not have; they answer with their empty shapes so that
apps start without errors. The ones with something behind them (follow requests, peers,
rules, markers) answer with real data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.models import FOLLOW_PENDING, Actor, Follow
from actors.moderation import visible
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.entities import rule_entities
from web.mastodon.entity_lists import accounts_json
from web.request_input import json_body
from web.scopes import PUBLIC, ScopedRoute
from web.scopes import both as _both

PREFERENCES = {
    "posting:default:visibility": "public",
    "posting:default:sensitive": False,
    "posting:default:language": None,
    "reading:expand:media": "default",
    "reading:expand:spoilers": False,
}
MARKER_TIMELINES = ("home", "notifications")
MAX_PEERS = 10_000


def _empty_list(*, signed_in: bool) -> Any:
    """An endpoint apps call at start-up for something we do not have (yet): always []
    (`signed_in`: to a token's person only, within the scope the route declares)."""

    async def answer(request: Request) -> Response:
        if signed_in:
            await token_actor(request)
        return JSONResponse([])

    return answer


async def preferences(request: Request) -> Response:
    await token_actor(request)
    return JSONResponse(PREFERENCES)


async def follow_requests(request: Request) -> Response:
    """People waiting for the signed-in person to accept their follow."""
    instance = instance_of(request)
    me = await token_actor(request)
    query = (
        select(Actor)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followee_id == me.id, Follow.state == FOLLOW_PENDING, visible())
        .order_by(Follow.id.desc())
        .limit(80)
    )
    async with instance.sessions() as session:
        waiting = list(await session.scalars(query))
        return JSONResponse(await accounts_json(session, instance, waiting))


async def get_markers(request: Request) -> Response:
    """Read positions are not stored yet: no markers."""
    await token_actor(request)
    return JSONResponse({})


async def save_markers(request: Request) -> Response:
    """Accepted and echoed so apps carry on; not stored yet."""
    await token_actor(request)
    body = await json_body(request, instance_of(request).settings.max_body_bytes)
    return JSONResponse({name: body[name] for name in MARKER_TIMELINES if name in body})


async def peers(request: Request) -> Response:
    """The other servers we know someone on."""
    instance = instance_of(request)
    query = (
        select(Actor.domain)
        .where(Actor.local.is_(False), visible())
        .distinct()
        .order_by(Actor.domain)
        .limit(MAX_PEERS)
    )
    async with instance.sessions() as session:
        domains = [d for d in await session.scalars(query) if not instance.blocks.is_suspended(d)]
    return JSONResponse(domains)


async def rules(request: Request) -> Response:
    return JSONResponse(rule_entities(instance_of(request).settings))


routes: list[BaseRoute] = [
    *_both("/api/v1/custom_emojis", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/preferences", preferences, scope="read:accounts"),
    *_both("/api/v1/announcements", _empty_list(signed_in=True), scope="read"),
    *_both("/api/v1/follow_requests", follow_requests, scope="read:follows"),
    ScopedRoute("/api/v1/markers", get_markers, methods=["GET"], scope="read:statuses"),
    ScopedRoute("/api/v1/markers", save_markers, methods=["POST"], scope="write:statuses"),
    *_both("/api/v1/trends", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/trends/tags", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/trends/statuses", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/trends/links", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/instance/peers", peers, scope=PUBLIC),
    *_both("/api/v1/instance/activity", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/instance/rules", rules, scope=PUBLIC),
]
