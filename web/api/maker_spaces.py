"""The JSON API for maker spaces: publish yours (cooperatives and nonprofits), and find the
ones this instance knows, local and federated, that can make something, nearest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.maker_space import (
    PROCESSES,
    Needs,
    maker_space_to_as,
    parse_maker_space,
    parse_needs,
    parse_volume,
)
from actors.models import Actor
from federation.errors import FederationError, ValidationError
from objects.design_models import DesignVersion
from objects.designs import get_version, licence_of
from objects.licences import LicencePolicy, LicenceTerms
from outbox.maker_spaces import Nearby, maker_spaces_near, save_maker_space
from web.bearer import token_actor
from web.instance import instance_of
from web.request_input import json_body
from web.scopes import PUBLIC, ScopedRoute


def nearby_json(found: Nearby) -> dict[str, Any]:
    return {
        "actor": found.actor.uri,
        "handle": found.actor.handle,
        "name": found.actor.name or found.actor.username,
        "entity_kind": found.actor.entity_kind,
        "local": found.actor.local,
        "distance": ("town", "region", "country", "elsewhere")[found.distance],
        "maker_space": maker_space_to_as(found.space),
    }


async def put_maker_space(request: Request) -> Response:
    instance = instance_of(request)
    actor = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    space = None if body.get("maker_space", "") is None else parse_maker_space(body)
    async with instance.sessions() as session:
        saved = await save_maker_space(session, instance.urls, actor.id, space)
        await session.commit()
    instance.wake_delivery()
    return JSONResponse(
        {"actor": saved.uri, "maker_space": None if space is None else maker_space_to_as(space)}
    )


async def find_maker_spaces(request: Request) -> Response:
    instance = instance_of(request)
    query = request.query_params
    process = query.get("process") or None
    if process is not None and process not in PROCESSES:
        raise ValidationError(f"'process' is one of {', '.join(PROCESSES)}", status=400)
    volume = parse_volume(query["volume"]) if query.get("volume") else None
    needs = Needs((process,), volume) if process else None
    orders = query.get("orders") == "true"
    may_sell = None
    async with instance.sessions() as session:
        if query.get("version"):
            version = await _version(session, query["version"])
            needs = parse_needs(version.needs) if version.needs else None
            if orders:
                may_sell = _may_sell(instance.policy, licence_of(version))
        found = await maker_spaces_near(
            session,
            needs=needs,
            may_sell=may_sell,
            town=query.get("town", "").strip(),
            region=query.get("region", "").strip(),
            country=query.get("country", "").strip(),
            orders_only=orders,
        )
    return JSONResponse({"maker_spaces": [nearby_json(item) for item in found]})


async def _version(session: AsyncSession, uri: str) -> DesignVersion:
    version = await get_version(session, uri)
    if version is None:
        raise FederationError(f"no design version {uri!r:.200} is known here", status=404)
    return version


def _may_sell(policy: LicencePolicy, terms: LicenceTerms) -> Callable[[Actor], bool]:
    """For an order: whether the licence lets this maker space's kind use the design
    commercially (cooperatives only, under the PPL)."""
    return lambda actor: policy.allows_commercial_use(terms, actor.entity_kind)


routes = [
    ScopedRoute("/api/v1/maker_space", put_maker_space, methods=["PUT"], scope="write:accounts"),
    ScopedRoute("/api/v1/maker_spaces", find_maker_spaces, methods=["GET"], scope=PUBLIC),
]
