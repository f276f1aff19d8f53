"""Sign-up moderation: listing accounts, approving or rejecting requests, setting roles.

Suspending and silencing live with the reports (`web.api.reports`); these routes cover
only who gets in and what they may do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors import account_admin
from actors.models import Account, Actor
from federation.settings import Settings
from web.account_json import admin_account_json, fields_of, text
from web.bearer import staff_actor
from web.instance import instance_of
from web.request_input import query_int, whole_id
from web.scopes import ScopedRoute

MAX_LIMIT = 200
Decision = Callable[[AsyncSession, Settings, Actor | None, int], Awaitable[tuple[Actor, Account]]]


def _account_id(request: Request) -> int:
    raw = request.path_params["id"]
    return whole_id(raw, f"there is no local account with id {raw!r}")


async def list_accounts(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    status = request.query_params.get("status", "all")
    limit = min(query_int(request, "limit") or 100, MAX_LIMIT)
    async with instance.sessions() as session:
        rows = await account_admin.local_accounts(session, status, limit)
    return JSONResponse([admin_account_json(actor, account) for actor, account in rows])


def _decide(decision: Decision) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        instance = instance_of(request)
        moderator = await staff_actor(request)
        async with instance.sessions() as session:
            actor, account = await decision(
                session, instance.settings, moderator, _account_id(request)
            )
            await session.commit()
        instance.wake_mail()
        return JSONResponse(admin_account_json(actor, account))

    return handler


async def change_role(request: Request) -> Response:
    instance = instance_of(request)
    admin = await staff_actor(request, "admin")
    fields = await fields_of(request, instance.settings.max_body_bytes)
    role = text(fields, "role", required=True, limit=16)
    async with instance.sessions() as session:
        actor, account = await account_admin.set_role(session, admin, _account_id(request), role)
        await session.commit()
    return JSONResponse(admin_account_json(actor, account))


routes: list[BaseRoute] = [
    ScopedRoute(
        "/api/v1/admin/accounts", list_accounts, methods=["GET"], scope="admin:read:accounts"
    ),
    ScopedRoute(
        "/api/v1/admin/accounts/{id}/approve",
        _decide(account_admin.approve),
        methods=["POST"],
        scope="admin:write:accounts",
    ),
    ScopedRoute(
        "/api/v1/admin/accounts/{id}/reject",
        _decide(account_admin.reject),
        methods=["POST"],
        scope="admin:write:accounts",
    ),
    ScopedRoute(
        "/api/v1/admin/accounts/{id}/role",
        change_role,
        methods=["PUT"],
        scope="admin:write:accounts",
    ),
]
