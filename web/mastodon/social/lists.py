"""Mastodon's lists: a person's named lists of accounts they follow, each read as a
timeline (`GET /api/v1/timelines/list/{id}`, with the other timelines).

As on Mastodon, only accounts the person follows (or has asked to follow) may be added,
and someone else's list is 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor, Follow
from actors.moderation import visible
from actors.relation_models import REPLIES_POLICIES, AccountList, ListMember
from federation.errors import FederationError, ValidationError
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.entity_lists import accounts_json, parse_account_id, visible_actor
from web.mastodon.forms import app_params
from web.mastodon.paging import NOT_FOUND, ids_link_header, read_id_page
from web.request_input import whole_id
from web.scopes import ScopedRoute, both

MAX_TITLE = 255
MAX_LISTS = 100
MAX_ADDED = 80
DEFAULT_LIMIT = 40
MAX_LIMIT = 80
READ_LISTS = "read:lists"
WRITE_LISTS = "write:lists"
TRUE = ("true", "1", "on", "yes")


def list_entity(row: AccountList) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": row.exclusive,
    }


async def own_list(session: AsyncSession, me: Actor, raw_id: str) -> AccountList:
    """The person's list with this id; 404 for any other (someone else's too)."""
    row = await session.scalar(
        select(AccountList).where(
            AccountList.id == whole_id(raw_id, NOT_FOUND), AccountList.actor_id == me.id
        )
    )
    if row is None:
        raise FederationError(NOT_FOUND, status=404)
    return row


def _apply(row: AccountList, params: dict[str, Any], *, creating: bool) -> None:
    title = params.get("title")
    if title is not None or creating:
        if not isinstance(title, str) or not title.strip():
            raise ValidationError("'title' is required: the list's name")
        if len(title.strip()) > MAX_TITLE:
            raise ValidationError(f"'title' is longer than {MAX_TITLE} characters")
        row.title = title.strip()
    policy = params.get("replies_policy")
    if policy is not None:
        if policy not in REPLIES_POLICIES:
            raise ValidationError(f"'replies_policy' must be one of {', '.join(REPLIES_POLICIES)}")
        row.replies_policy = policy
    elif creating:
        row.replies_policy = "list"
    exclusive = params.get("exclusive")
    if exclusive is not None:
        row.exclusive = exclusive is True or str(exclusive).lower() in TRUE
    elif creating:
        row.exclusive = False


async def index(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        rows = await session.scalars(
            select(AccountList).where(AccountList.actor_id == me.id).order_by(AccountList.id)
        )
        return JSONResponse([list_entity(row) for row in rows])


async def create(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    row = AccountList(actor_id=me.id)
    _apply(row, params, creating=True)
    async with instance.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(AccountList).where(AccountList.actor_id == me.id)
        )
        if (count or 0) >= MAX_LISTS:
            raise ValidationError(f"you have {MAX_LISTS} lists already; delete one first")
        session.add(row)
        await session.commit()
        return JSONResponse(list_entity(row))


async def show(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        return JSONResponse(list_entity(await own_list(session, me, request.path_params["id"])))


async def update(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    async with instance.sessions() as session:
        row = await own_list(session, me, request.path_params["id"])
        _apply(row, params, creating=False)
        await session.commit()
        return JSONResponse(list_entity(row))


async def remove(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        row = await own_list(session, me, request.path_params["id"])
        await session.delete(row)
        await session.commit()
    return JSONResponse({})


async def members(request: Request) -> Response:
    """The list's accounts, in the order they were added, latest first; `limit=0`: all."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        row = await own_list(session, me, request.path_params["id"])
        query = (
            select(ListMember.id, Actor)
            .join(Actor, Actor.id == ListMember.target_id)
            .where(ListMember.list_id == row.id, visible())
        )
        if request.query_params.get("limit") == "0":
            everyone = await session.execute(query.order_by(ListMember.id.desc()))
            rows = [(member_id, actor) for member_id, actor in everyone]
        else:
            page = await read_id_page(
                session, request, query, ListMember.id, default=DEFAULT_LIMIT, maximum=MAX_LIMIT
            )
            rows = [(member_id, actor) for member_id, actor in page]
        accounts = await accounts_json(session, instance, [actor for _, actor in rows])
    headers = {}
    if request.query_params.get("limit") != "0":
        headers = ids_link_header(
            request,
            [member_id for member_id, _ in rows],
            default=DEFAULT_LIMIT,
            maximum=MAX_LIMIT,
            keep_filters=False,
        )
    return JSONResponse(accounts, headers=headers)


def _account_ids(params: dict[str, Any]) -> list[int]:
    raw = params.get("account_ids")
    values = raw if isinstance(raw, list) else [raw] if raw is not None else []
    if not values:
        raise ValidationError("'account_ids' is required: the ids of the accounts (account_ids[])")
    if len(values) > MAX_ADDED:
        raise ValidationError(f"at most {MAX_ADDED} accounts at once")
    return [parse_account_id(str(value)) for value in values]


async def add_members(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    wanted = _account_ids(await app_params(request, instance.settings.max_body_bytes))
    async with instance.sessions() as session:
        row = await own_list(session, me, request.path_params["id"])
        for account_id in wanted:
            await visible_actor(session, str(account_id))
        followed = set(
            await session.scalars(
                select(Follow.followee_id).where(
                    Follow.follower_id == me.id, Follow.followee_id.in_(wanted)
                )
            )
        )
        if missing := [i for i in wanted if i not in followed]:
            raise ValidationError(
                "only accounts you follow can be added to a list; you do not follow "
                + ", ".join(str(i) for i in missing)
            )
        present = set(
            await session.scalars(
                select(ListMember.target_id).where(
                    ListMember.list_id == row.id, ListMember.target_id.in_(wanted)
                )
            )
        )
        for account_id in dict.fromkeys(wanted):
            if account_id not in present:
                session.add(ListMember(list_id=row.id, target_id=account_id))
        await session.commit()
    return JSONResponse({})


async def remove_members(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    wanted = _account_ids(await app_params(request, instance.settings.max_body_bytes))
    async with instance.sessions() as session:
        row = await own_list(session, me, request.path_params["id"])
        await session.execute(
            delete(ListMember).where(ListMember.list_id == row.id, ListMember.target_id.in_(wanted))
        )
        await session.commit()
    return JSONResponse({})


async def lists_with(request: Request) -> Response:
    """The person's lists that hold this account."""
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        target = await visible_actor(session, request.path_params["id"])
        rows = await session.scalars(
            select(AccountList)
            .join(ListMember, ListMember.list_id == AccountList.id)
            .where(AccountList.actor_id == me.id, ListMember.target_id == target.id)
            .order_by(AccountList.id)
        )
        return JSONResponse([list_entity(row) for row in rows])


routes = [
    *both("/api/v1/lists", index, methods=["GET"], scope=READ_LISTS),
    ScopedRoute("/api/v1/lists", create, methods=["POST"], scope=WRITE_LISTS),
    ScopedRoute("/api/v1/lists/{id}", show, methods=["GET"], scope=READ_LISTS),
    ScopedRoute("/api/v1/lists/{id}", update, methods=["PUT"], scope=WRITE_LISTS),
    ScopedRoute("/api/v1/lists/{id}", remove, methods=["DELETE"], scope=WRITE_LISTS),
    ScopedRoute("/api/v1/lists/{id}/accounts", members, methods=["GET"], scope=READ_LISTS),
    ScopedRoute("/api/v1/lists/{id}/accounts", add_members, methods=["POST"], scope=WRITE_LISTS),
    ScopedRoute(
        "/api/v1/lists/{id}/accounts", remove_members, methods=["DELETE"], scope=WRITE_LISTS
    ),
    ScopedRoute("/api/v1/accounts/{id}/lists", lists_with, methods=["GET"], scope=READ_LISTS),
]
