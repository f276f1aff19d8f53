"""Mastodon's conversations: the signed-in person's threads of direct statuses
(`objects.conversations` finds them), marked read or removed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from federation.errors import FederationError
from objects.conversations import Conversation, conversations_of, mark, participant_ids
from web.bearer import token_actor
from web.instance import Instance, instance_of
from web.mastodon.entity_lists import entities
from web.mastodon.paging import NOT_FOUND, ids_link_header, page_limit
from web.mastodon.status import account_entities
from web.request_input import ID_DIGITS, whole_id
from web.scopes import ScopedRoute


async def _entities(
    session: AsyncSession, instance: Instance, me: Actor, chosen: Sequence[Conversation]
) -> list[dict[str, Any]]:
    statuses = await entities(session, instance, me, [c.last for c in chosen])
    others = await participant_ids(session, me, chosen)
    accounts = await account_entities(
        session, instance.urls, {i for ids in others.values() for i in ids}
    )
    return [
        {
            "id": str(c.root_id),
            "unread": c.unread_for(me),
            "accounts": [accounts[i] for i in others[c.root_id] if i in accounts],
            "last_status": status,
        }
        for c, status in zip(chosen, statuses, strict=True)
    ]


def _bound(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) <= ID_DIGITS else None


async def index(request: Request) -> Response:
    """Latest first, paged by the id of each conversation's last status, as Mastodon does."""
    instance = instance_of(request)
    me = await token_actor(request)
    limit = page_limit(request)
    max_id, since_id, min_id = (_bound(request, n) for n in ("max_id", "since_id", "min_id"))
    async with instance.sessions() as session:
        found = await conversations_of(session, me)
        if max_id is not None:
            found = [c for c in found if c.last.id < max_id]
        for lower in (since_id, min_id):
            if lower is not None:
                found = [c for c in found if c.last.id > lower]
        chosen = found[-limit:] if min_id is not None else found[:limit]
        shown = await _entities(session, instance, me, chosen)
    return JSONResponse(shown, headers=ids_link_header(request, [c.last.id for c in chosen]))


async def _one(session: AsyncSession, me: Actor, raw_id: str) -> Conversation:
    wanted = whole_id(raw_id, NOT_FOUND)
    for conversation in await conversations_of(session, me):
        if conversation.root_id == wanted:
            return conversation
    raise FederationError(NOT_FOUND, status=404)


async def read(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        conversation = await _one(session, me, request.path_params["id"])
        await mark(session, me, conversation, removed=False)
        await session.commit()
        [shown] = await _entities(session, instance, me, [conversation])
    return JSONResponse(shown)


async def remove(request: Request) -> Response:
    """Off the list until a newer status comes; the statuses themselves stay."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        conversation = await _one(session, me, request.path_params["id"])
        await mark(session, me, conversation, removed=True)
        await session.commit()
    return JSONResponse({})


WRITE = "write:conversations"

routes = [
    ScopedRoute("/api/v1/conversations", index, methods=["GET"], scope="read:statuses"),
    ScopedRoute("/api/v1/conversations/{id}/read", read, methods=["POST"], scope=WRITE),
    ScopedRoute("/api/v1/conversations/{id}", remove, methods=["DELETE"], scope=WRITE),
]
