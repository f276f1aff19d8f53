"""What Mastodon apps ask for when they start: emojis, filters, lists, preferences, trends...

Most of these are features we do not have; they answer with their empty shapes so that
apps start without errors. The ones with something behind them (peers, rules) answer
with real data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.models import Actor
from actors.moderation import visible
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.entities import rule_entities
from web.scopes import PUBLIC
from web.scopes import both as _both

PREFERENCES = {
    "posting:default:visibility": "public",
    "posting:default:sensitive": False,
    "posting:default:language": None,
    "reading:expand:media": "default",
    "reading:expand:spoilers": False,
}
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
    *_both("/api/v1/trends", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/trends/tags", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/trends/statuses", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/trends/links", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/instance/peers", peers, scope=PUBLIC),
    *_both("/api/v1/instance/activity", _empty_list(signed_in=False), scope=PUBLIC),
    *_both("/api/v1/instance/rules", rules, scope=PUBLIC),
]
