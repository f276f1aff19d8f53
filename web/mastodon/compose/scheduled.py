"""Mastodon's scheduled statuses: list, show, move and cancel the statuses that
POST /api/v1/statuses with `scheduled_at` keeps for the scheduled-status worker."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from federation.db import utcnow
from federation.errors import ValidationError
from outbox.scheduled import cancel, own_waiting, reschedule, waiting_of
from outbox.scheduled_models import ScheduledStatus
from web.account_json import form_or_json
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.compose.scheduled_entities import parse_scheduled_at, scheduled_entities
from web.mastodon.paging import NOT_FOUND, ids_link_header, read_id_page
from web.request_input import whole_id
from web.scopes import ScopedRoute, both

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


async def list_scheduled(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        rows = [
            row
            for (row,) in await read_id_page(
                session,
                request,
                waiting_of(me),
                ScheduledStatus.id,
                default=DEFAULT_LIMIT,
                maximum=MAX_LIMIT,
            )
        ]
        shown = await scheduled_entities(session, instance.urls, rows)
    headers = ids_link_header(
        request, [row.id for row in rows], default=DEFAULT_LIMIT, maximum=MAX_LIMIT
    )
    return JSONResponse(shown, headers=headers)


async def get_scheduled(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        row = await own_waiting(session, me, whole_id(request.path_params["id"], NOT_FOUND))
        [shown] = await scheduled_entities(session, instance.urls, [row])
    return JSONResponse(shown)


async def update_scheduled(request: Request) -> Response:
    """Only the time can change, as on Mastodon."""
    instance = instance_of(request)
    me = await token_actor(request)
    row_id = whole_id(request.path_params["id"], NOT_FOUND)
    body = await form_or_json(request, instance.settings.max_body_bytes, dict)
    when = parse_scheduled_at(body.get("scheduled_at"))
    if when is None:
        raise ValidationError("send scheduled_at: the new time to publish the status")
    async with instance.sessions() as session:
        row = await reschedule(session, me, row_id, when, utcnow())
        await session.commit()
        [shown] = await scheduled_entities(session, instance.urls, [row])
    instance.wake_scheduled()
    return JSONResponse(shown)


async def delete_scheduled(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        await cancel(session, me, whole_id(request.path_params["id"], NOT_FOUND))
        await session.commit()
    return JSONResponse({})


routes: list[BaseRoute] = [
    *both("/api/v1/scheduled_statuses", list_scheduled, methods=["GET"], scope="read:statuses"),
    ScopedRoute(
        "/api/v1/scheduled_statuses/{id}", get_scheduled, methods=["GET"], scope="read:statuses"
    ),
    ScopedRoute(
        "/api/v1/scheduled_statuses/{id}",
        update_scheduled,
        methods=["PUT"],
        scope="write:statuses",
    ),
    ScopedRoute(
        "/api/v1/scheduled_statuses/{id}",
        delete_scheduled,
        methods=["DELETE"],
        scope="write:statuses",
    ),
]
