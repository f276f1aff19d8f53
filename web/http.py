"""Response helpers shared by the routes: content negotiation, JSON, errors, paging."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor, ApiToken
from actors.oauth import OUTSIDE_SCOPES, may_write, token_allows
from actors.service import has_role, token_person, token_row
from federation.errors import FederationError
from federation.json_input import parse_json_object
from federation.outages import outage_of
from federation.vocab import ACTIVITY_JSON
from web.files import media_type_essence
from web.pages import render
from web.sign_in_cache import SignInCache

log = logging.getLogger(__name__)
PAGE_SIZE = 20
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CURSOR = re.compile(r"[0-9]{1,18}")
# What a missing or unknown token is told: our own API's words, and Mastodon's.
NEEDS_TOKEN = (
    "this needs 'Authorization: Bearer <token>'; create a token with 'ourdesign token create NAME'"
)
BAD_TOKEN = "the bearer token is not valid; create one with 'ourdesign token create NAME'"
NEEDS_BEARER = "this needs 'Authorization: Bearer <token>'"
INVALID_TOKEN = "The access token is invalid"


class ActivityResponse(Response):
    media_type = ACTIVITY_JSON

    def __init__(self, content: Any, status_code: int = 200, **options: Any) -> None:
        super().__init__(content, status_code, **options)
        # The same URL serves a page to browsers: caches must key on Accept.
        self.headers.setdefault("vary", "Accept")

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def wants_activity_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/activity+json" in accept or "application/ld+json" in accept


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


ERROR_HEADINGS = {
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    410: "Gone",
    413: "Too large",
    429: "Too many attempts",
    503: "Try again soon",
    507: "Out of storage",
}


async def federation_error_handler(request: Request, exc: Exception) -> Response:
    """JSON for programs (Mastodon's shape); a page for a browser opening a page."""
    assert isinstance(exc, FederationError)
    if _browser_page_request(request):
        heading = ERROR_HEADINGS.get(exc.status, "That did not work")
        page = render(request, "error.html", exc.status, heading=heading, message=exc.message)
        page.headers.update(exc.headers)
        return page
    return error_response(exc.status, exc.message, exc.headers or None)


async def outage_handler(request: Request, exc: Exception) -> Response:
    """A database or disk outage as 503/507 with Retry-After (`federation.outages`); any
    other error is raised again, to be answered 500 and logged with its traceback."""
    outage = outage_of(exc)
    if outage is None:
        raise exc
    log.warning(
        "answered %s to %s %s: %s",
        outage.status,
        request.method,
        request.url.path,
        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
    )
    return await federation_error_handler(request, outage)


def client_ip(request: HTTPConnection) -> str:
    """The client's address as uvicorn resolved it: its proxy-headers middleware put the
    forwarded address here, and only for a trusted proxy; a header read directly could be
    forged by anyone."""
    return request.client.host if request.client else ""


def _browser_page_request(request: Request) -> bool:
    """A browser navigating (its Accept starts with text/html), not a program asking."""
    accept = request.headers.get("accept", "").lstrip().lower()
    return accept.startswith("text/html") and not wants_activity_json(request)


def query_int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not _CURSOR.fullmatch(value):
        raise FederationError(
            f"the query parameter {name!r} must be a whole number of at most 18 digits", status=400
        )
    return int(value)


def ordered_collection(collection_id: str, total: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=true",
    }


def ordered_page(
    collection_id: str, page_id: str, items: list[Any], next_cursor: int | None, cursor_name: str
) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if next_cursor is not None:
        page["next"] = f"{collection_id}?page=true&{cursor_name}={next_cursor}"
    return page


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


def optional_bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an 'Authorization: Bearer <token>' header, if one came."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def bearer_token(connection: HTTPConnection, missing: str = NEEDS_TOKEN) -> str:
    """The request's bearer token; 401 with `missing` when there is none."""
    token = optional_bearer_token(connection)
    if token is None:
        raise FederationError(missing, status=401)
    return token


async def authenticate(session: AsyncSession, request: Request, scope: str | None = None) -> Actor:
    """The local person whose bearer token came with the request: see `check_token`."""
    actor, _ = await check_token(session, request, scope)
    return actor


async def check_token(
    session: AsyncSession, request: Request, scope: str | None = None
) -> tuple[Actor, ApiToken]:
    """The local person whose bearer token came with the request, and the token, checked in
    this order.

    With `scope` (Mastodon's API): 401 without a live token, 403 when its scopes do not
    cover `scope`. Then: 401 unless the token acts for a person who is not deleted, 403 if
    they are suspended, 403 if the method changes something and the token may not write.
    The token's use is noted in `session`; the caller commits.
    """
    row: ApiToken | None
    if scope is None:
        row = await token_row(session, bearer_token(request))
    else:
        row = await scoped_token_row(session, request, scope)
    actor, row = await token_person(session, row)
    if actor is None or row is None or actor.deleted_at is not None:
        raise FederationError(BAD_TOKEN, status=401)
    if actor.suspended_at is not None:
        raise FederationError(
            "this account is suspended; ask the instance's moderators why", status=403
        )
    if request.method not in READ_METHODS and not may_write(row):
        raise FederationError(OUTSIDE_SCOPES, status=403)
    return actor, row


async def scoped_token_row(
    session: AsyncSession, request: Request, scope: str | None = None
) -> ApiToken:
    """The live token row of the request's bearer token (401 otherwise); with `scope`, 403
    unless the token's scopes cover it."""
    row = await token_row(session, bearer_token(request, NEEDS_BEARER))
    if row is None:
        raise FederationError(INVALID_TOKEN, status=401)
    if scope is not None and not token_allows(row, scope):
        raise FederationError(OUTSIDE_SCOPES, status=403)
    return row


async def signed_in_actor(
    request: Request, scope: str | None = None, role: str | None = None
) -> Actor:
    """`check_token` in a session of its own; with `role`, 403 unless theirs is that or
    higher. A read may be answered from the instance's `SignInCache`."""
    instance = request.app.state.instance
    cacheable = role is None and request.method in READ_METHODS
    if cacheable and (known := _known_sign_in(instance.sign_ins, request, scope)) is not None:
        return known
    generation = instance.sign_ins.kept.changes.generation
    async with instance.sessions() as session:
        try:
            actor, row = await check_token(session, request, scope)
            if role is not None and not await has_role(session, actor, role):
                raise FederationError(f"this needs the {role} role; ask an admin", status=403)
        except FederationError:
            await session.commit()  # the token's use is noted even when the request is refused
            raise
        await session.commit()
    if cacheable:
        instance.sign_ins.keep(bearer_token(request), generation, actor, row)
    return actor


def _known_sign_in(cache: SignInCache, request: Request, scope: str | None) -> Actor | None:
    token = optional_bearer_token(request)
    known = cache.get(token) if token is not None else None
    if known is None:
        return None
    if scope is not None and not token_allows(known.token, scope):
        raise FederationError(OUTSIDE_SCOPES, status=403)
    return known.actor


async def token_actor(request: Request) -> Actor:
    """The local person whose bearer token came with the request (401 otherwise)."""
    return await signed_in_actor(request)


async def staff_actor(request: Request, role: str = "moderator") -> Actor:
    """The token's person if their role is `role` or higher (admin > moderator > member)."""
    return await signed_in_actor(request, role=role)
