"""Reading a request's input: whole numbers in the query and path, bounded bodies, and the local
actor a path names."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from actors.models import Actor
from actors.service import INSTANCE_ACTOR_USERNAME, get_local_actor
from federation.errors import FederationError, ValidationError
from federation.json_input import parse_json_object
from web.files import media_type_essence
from web.instance import instance_of

_CURSOR = re.compile(r"[0-9]{1,18}")


def query_int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not _CURSOR.fullmatch(value):
        raise FederationError(
            f"the query parameter {name!r} must be a whole number of at most 18 digits", status=400
        )
    return int(value)


async def limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise FederationError(f"the body is larger than {limit} bytes", status=413)
    return bytes(raw)


async def json_body(request: Request, limit: int) -> dict[str, Any]:
    """The JSON object a request carries: the one way routes read a JSON body (400 for
    JSON that is malformed, nested too deep or not an object; 413 past `limit` bytes)."""
    media_type = media_type_essence(request.headers.get("content-type", ""))
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise FederationError(f"send JSON (application/json), not {media_type:.80}", status=415)
    return parse_json_object(await limited_body(request, limit))


ID_DIGITS = 18  # a row id fits a signed 64-bit integer


def whole_id(raw: str, message: str, *, status: int = 404) -> int:
    """`raw` as a row id (at most 18 digits), else an error with `status` and `message`."""
    if not raw.isdigit() or len(raw) > ID_DIGITS:
        error = ValidationError if status == ValidationError.status else FederationError
        raise error(message, status=status)
    return int(raw)


async def local_actor_or_404(request: Request) -> Actor:
    """The local person or project the path names (not the instance actor, not suspended)."""
    async with instance_of(request).sessions() as session:
        actor = await get_local_actor(session, request.path_params["username"])
    if actor is None or actor.username == INSTANCE_ACTOR_USERNAME:
        raise FederationError(
            f"there is no user {request.path_params['username']!r} here", status=404
        )
    if actor.suspended_at is not None:
        raise FederationError(
            f"the account {actor.username!r} is suspended by this instance's moderators",
            status=404,
        )
    return actor
