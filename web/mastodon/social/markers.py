"""Mastodon's markers: where the signed-in person stopped reading home and notifications,
kept per person and timeline so that every app of theirs starts where another left off."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from objects.marker_models import Marker
from objects.markers import check_positions, read_markers, save_markers
from web.account_json import form_or_json
from web.bearer import token_actor
from web.instance import instance_of
from web.scopes import ScopedRoute

_FORM_KEY = re.compile(r"(\w+)\[(\w+)\]")


def _time(moment: dt.datetime) -> str:
    """Mastodon's timestamps: UTC with milliseconds."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _entities(rows: Sequence[Marker]) -> dict[str, Any]:
    return {
        row.timeline: {
            "last_read_id": row.last_read_id,
            "version": row.version,
            "updated_at": _time(row.updated_at),
        }
        for row in rows
    }


def _form_markers(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`home[last_read_id]=…` pairs as the JSON body an app would send."""
    body: dict[str, Any] = {}
    for key, value in pairs:
        if match := _FORM_KEY.fullmatch(key):
            body.setdefault(match[1], {})[match[2]] = value
    return body


async def get_markers(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = request.query_params
    wanted = params.getlist("timeline[]") or params.getlist("timeline")
    async with instance.sessions() as session:
        rows = await read_markers(session, me.id, wanted)
    return JSONResponse(_entities(rows))


async def post_markers(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    body = await form_or_json(request, instance.settings.max_body_bytes, _form_markers)
    positions = check_positions(body)
    async with instance.sessions() as session:
        await save_markers(session, me.id, positions)
        rows = await read_markers(session, me.id, positions)
    return JSONResponse(_entities(rows))


routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/markers", get_markers, methods=["GET"], scope="read:statuses"),
    ScopedRoute("/api/v1/markers", post_markers, methods=["POST"], scope="write:statuses"),
]
