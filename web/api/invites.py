"""Invite links: members create and revoke them; anyone may ask whether one is valid."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from actors.invites import create_invite, find_invite, invite_problem, invites_by, revoke
from actors.service import has_role
from federation.errors import FederationError
from web.account_json import fields_of, invite_json, message_page, optional_int
from web.bearer import token_actor
from web.instance import instance_of
from web.scopes import ScopedRoute


async def create(request: Request) -> Response:
    instance = instance_of(request)
    creator = await token_actor(request)
    fields = await fields_of(request, instance.settings.max_body_bytes)
    expires_in = optional_int(fields, "expires_in")
    async with instance.sessions() as session:
        closed = instance.settings.registration_mode == "closed"
        if closed and not await has_role(session, creator, "moderator"):
            raise FederationError(
                "registrations are closed here, so only moderators and admins invite; ask one",
                status=403,
            )
        invite = await create_invite(
            session,
            creator,
            expires_in=dt.timedelta(seconds=expires_in) if expires_in is not None else None,
            max_uses=optional_int(fields, "max_uses"),
        )
        await session.commit()
    return JSONResponse(invite_json(invite, instance.settings.base_url))


async def list_own(request: Request) -> Response:
    instance = instance_of(request)
    creator = await token_actor(request)
    async with instance.sessions() as session:
        invites = await invites_by(session, creator)
    return JSONResponse([invite_json(i, instance.settings.base_url) for i in invites])


async def delete(request: Request) -> Response:
    instance = instance_of(request)
    actor = await token_actor(request)
    async with instance.sessions() as session:
        invite = await find_invite(session, request.path_params["code"])
        if invite.created_by_id != actor.id and not await has_role(session, actor, "moderator"):
            raise FederationError(
                "only the member who made an invite, or a moderator, may revoke it", status=403
            )
        revoke(invite)
        await session.commit()
    return JSONResponse(invite_json(invite, instance.settings.base_url))


async def show(request: Request) -> Response:
    """Whether an invite link works, for a person (HTML) or an app (JSON)."""
    instance = instance_of(request)
    async with instance.sessions() as session:
        invite = await find_invite(session, request.path_params["code"])
    problem = invite_problem(invite)
    register_url = f"{instance.settings.base_url}/api/v1/accounts"
    message = problem or (
        f"this invite admits you to {instance.settings.instance_name} without waiting for "
        f"approval: POST {register_url} with username, email, password, agreement=true and "
        f"invite_code={invite.code}"
    )
    status = 200 if problem is None else 410
    if "text/html" in request.headers.get("accept", ""):
        return message_page(instance.settings.instance_name, "Invitation", message, status)
    body = invite_json(invite, instance.settings.base_url) | {
        "message": message,
        "register": {"method": "POST", "url": register_url, "invite_code": invite.code},
    }
    return JSONResponse(body, status_code=status)


routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/invites", create, methods=["POST"], scope="write"),
    ScopedRoute("/api/v1/invites", list_own, methods=["GET"], scope="read"),
    ScopedRoute("/api/v1/invites/{code}", delete, methods=["DELETE"], scope="write"),
    Route("/invite/{code}", show, methods=["GET"]),
]
