"""Mastodon's notifications: the signed-in person's, newest first, paged by notification id.

Rows are written by `objects.notifications`. A fork of one of the person's designs is shown
to Mastodon apps as a "status" notification carrying the fork's version (apps ignore types
they do not know), with "ourdesign_type": "fork" so that our own clients can tell. The
statuses of a page are built together (`web.mastodon.status`); a notification whose status
was deleted since, or whose sender is suspended or gone, is left out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from actors.moderation import visible
from federation.errors import FederationError, ValidationError
from objects.hiding import wanted_by
from objects.models import Note, Notification
from objects.notifications import FORK
from objects.visibility import readable_by
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.notification_entities import notification_entities
from web.mastodon.paging import NOT_FOUND, ids_link_header, page_limit, read_id_page
from web.request_input import whole_id
from web.scopes import ScopedRoute

READ_NOTIFICATIONS = "read:notifications"
WRITE_NOTIFICATIONS = "write:notifications"
UNREAD_LIMIT = 1000


def _kinds(types: list[str]) -> set[str]:
    """Stored kinds for type names as apps send them: "status" includes forks."""
    kinds = set(types)
    if "status" in kinds:
        kinds.add(FORK)
    return kinds


def _types_param(request: Request, name: str) -> list[str]:
    return request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)


def _mine(me: Actor) -> Select[Any]:
    """The person's notifications whose sender may still be shown, is not hidden from them
    (`objects.hiding`) and whose note, if they are about one, the person may read (a row
    made before that rule, or a follow since ended, is neither listed nor counted)."""
    return (
        select(Notification)
        .join(Actor, Actor.id == Notification.from_actor_id)
        .outerjoin(Note, Note.uri == Notification.object_uri)
        .where(
            Notification.recipient_id == me.id,
            visible(),
            or_(Note.id.is_(None), readable_by(me)),
            wanted_by(me, Notification),
        )
    )


def _filtered(request: Request, query: Select[Any]) -> Select[Any]:
    if types := _types_param(request, "types"):
        query = query.where(Notification.kind.in_(_kinds(types)))
    if excluded := _types_param(request, "exclude_types"):
        query = query.where(Notification.kind.not_in(_kinds(excluded)))
    if account_id := request.query_params.get("account_id"):
        query = query.where(Notification.from_actor_id == _number(account_id, "account_id"))
    return query


ID_WANTED = "a notification or account id"


def _number(raw: str, name: str) -> int:
    return whole_id(raw, f"{name!r} must be {ID_WANTED}", status=ValidationError.status)


async def index(request: Request) -> Response:
    me = await token_actor(request)
    instance = instance_of(request)
    query = _filtered(request, _mine(me))
    async with instance.sessions() as session:
        page = await read_id_page(session, request, query, Notification.id)
        rows = [row for (row,) in page]
        shown = await notification_entities(session, instance, me, rows)
    # next (older: max_id) and prev (newer: min_id), keeping the filters.
    return JSONResponse(shown, headers=ids_link_header(request, [row.id for row in rows]))


async def show(request: Request) -> Response:
    me = await token_actor(request)
    instance = instance_of(request)
    async with instance.sessions() as session:
        row = await _one_of_mine(session, me, request.path_params["id"])
        shown = await notification_entities(session, instance, me, [row])
    if not shown:
        raise FederationError(NOT_FOUND, status=404)
    return JSONResponse(shown[0])


async def dismiss(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        row = await _one_of_mine(session, me, request.path_params["id"])
        await session.delete(row)
        await session.commit()
    return JSONResponse({})


async def clear(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        await session.execute(delete(Notification).where(Notification.recipient_id == me.id))
        await session.commit()
    return JSONResponse({})


async def unread_count(request: Request) -> Response:
    """Every notification counts as unread: read positions (markers) are not stored yet."""
    me = await token_actor(request)
    limit = page_limit(request, default=100, maximum=UNREAD_LIMIT)
    counted = _filtered(request, _mine(me)).with_only_columns(Notification.id).limit(limit)
    async with instance_of(request).sessions() as session:
        count = await session.scalar(select(func.count()).select_from(counted.subquery()))
    return JSONResponse({"count": count or 0})


async def _one_of_mine(session: AsyncSession, me: Actor, raw_id: str) -> Notification:
    row_id = whole_id(raw_id, NOT_FOUND)
    row: Notification | None = await session.scalar(_mine(me).where(Notification.id == row_id))
    if row is None:
        raise FederationError(NOT_FOUND, status=404)
    return row


routes = [
    ScopedRoute("/api/v1/notifications", index, methods=["GET"], scope=READ_NOTIFICATIONS),
    ScopedRoute(
        "/api/v1/notifications/unread_count",
        unread_count,
        methods=["GET"],
        scope=READ_NOTIFICATIONS,
    ),
    ScopedRoute("/api/v1/notifications/clear", clear, methods=["POST"], scope=WRITE_NOTIFICATIONS),
    ScopedRoute("/api/v1/notifications/{id}", show, methods=["GET"], scope=READ_NOTIFICATIONS),
    ScopedRoute(
        "/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"], scope=WRITE_NOTIFICATIONS
    ),
]
