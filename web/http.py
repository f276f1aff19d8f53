"""Response helpers shared by the routes: content negotiation, JSON, errors, paging."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from actors.models import Actor, ApiToken
from actors.oauth import OUTSIDE_SCOPES, may_write, token_allows
from actors.service import has_role, token_person, token_row
from federation.errors import FederationError
from federation.json_input import parse_json_object
from federation.vocab import ACTIVITY_JSON
from web.files import media_type_essence
from web.pages import render
from web.sign_in_cache import SignIn

log = logging.getLogger(__name__)
PAGE_SIZE = 20
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CURSOR = re.compile(r"[0-9]{1,18}")
# What a missing or unknown token is told: our own API's words, and Mastodon's.
NEEDS_TOKEN = (
    "this needs 'Authorization: Bearer <token>'; create a token with 'ourdesign token create NAME'"
)
BAD_TOKEN = "the bearer token is not valid; create one with 'ourdesign token create NAME'"
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


# Paths whose every answer is for programs, so every error there is Mastodon's JSON.
API_PREFIXES = ("/api/", "/oauth/")


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """The router's own errors (no such route: 404; a method the route lacks: 405, with
    `Allow`) in the same shapes as ours: JSON under the API, where apps parse every
    answer; a page for a browser elsewhere; Starlette's plain text otherwise."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    if request.url.path.startswith(API_PREFIXES):
        return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))
    if _browser_page_request(request):
        heading = ERROR_HEADINGS.get(exc.status_code, exc.detail)
        page = render(request, "error.html", exc.status_code, heading=heading, message=exc.detail)
        page.headers.update(exc.headers or {})
        return page
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


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


# Where a `web.scopes.ScopedRoute` puts, in the ASGI scope, what it declares: the OAuth scopes
# of which a token must hold one (() for any live token), or None for a route that takes none.
ROUTE_SCOPE = "ourdesign.route_scope"
# Where the tokens a request's handlers resolved are kept, so that each is looked up once.
SIGN_INS = "ourdesign.sign_ins"


def route_scope(connection: HTTPConnection) -> tuple[str, ...]:
    """The scopes the matched route declares; a route that declares none, or declares itself
    public, resolves no token at all (a programming error, not the client's)."""
    if ROUTE_SCOPE not in connection.scope:
        raise RuntimeError(f"{connection.url.path} declares no OAuth scope: use web.scopes")
    needs: tuple[str, ...] | None = connection.scope[ROUTE_SCOPE]
    if needs is None:
        raise RuntimeError(f"{connection.url.path} is declared public but asks for a token")
    return needs


def within_route_scope(connection: HTTPConnection, row: ApiToken) -> None:
    """403, as Mastodon words it, unless the token holds one of the route's scopes."""
    needs = route_scope(connection)
    if needs and not any(token_allows(row, scope) for scope in needs):
        raise FederationError(OUTSIDE_SCOPES, status=403)


async def bearer_sign_in(connection: HTTPConnection, token: str | None = None) -> SignIn | None:
    """The request's token (`token`, else its 'Authorization: Bearer') and whom it acts for,
    checked against the matched route's declared scope: the one place every token is
    resolved. None without a token; 401 for a token we do not know; 403 when its scopes
    do not cover the route's. Resolved once per request; a read may be answered from the
    instance's `SignInCache`."""
    token = token or optional_bearer_token(connection)
    if token is None:
        return None
    route_scope(connection)  # before any lookup: a public route never resolves a token
    resolved: dict[str, SignIn] = connection.scope.setdefault(SIGN_INS, {})
    if token not in resolved:
        resolved[token] = await _look_up(connection, token)
    within_route_scope(connection, resolved[token].token)
    return resolved[token]


async def _look_up(connection: HTTPConnection, token: str) -> SignIn:
    instance = connection.app.state.instance
    reading = connection.scope.get("method", "GET") in READ_METHODS
    if reading and (known := instance.sign_ins.get(token)) is not None:
        instance.token_uses.note(known.token.id)
        return known  # type: ignore[no-any-return]
    generation = instance.sign_ins.kept.changes.generation
    async with instance.sessions() as session:
        row = await token_row(session, token)
        if row is None:
            raise FederationError(INVALID_TOKEN, status=401)
        actor, _ = await token_person(session, row)
    instance.token_uses.note(row.id)  # even when the request is refused
    if reading and actor is not None:
        instance.sign_ins.keep(token, generation, actor, row)
    return SignIn(actor, row)


async def signed_in_actor(connection: HTTPConnection, role: str | None = None) -> Actor:
    """The local person whose token came with the request (`bearer_sign_in`), checked in
    this order: 401 without a token, or unless it acts for a person who is not deleted;
    403 if they are suspended, if the method changes something and the token may not
    write, or (with `role`) unless their role is that or higher."""
    sign_in = await bearer_sign_in(connection)
    if sign_in is None:
        raise FederationError(NEEDS_TOKEN, status=401)
    actor = sign_in.actor
    if actor is None or actor.deleted_at is not None:
        raise FederationError(BAD_TOKEN, status=401)
    if actor.suspended_at is not None:
        raise FederationError(
            "this account is suspended; ask the instance's moderators why", status=403
        )
    if connection.scope.get("method", "GET") not in READ_METHODS and not may_write(sign_in.token):
        raise FederationError(OUTSIDE_SCOPES, status=403)
    if role is not None:
        async with connection.app.state.instance.sessions() as session:
            if not await has_role(session, actor, role):
                raise FederationError(f"this needs the {role} role; ask an admin", status=403)
    return actor


async def token_actor(request: Request) -> Actor:
    """The local person whose bearer token came with the request (401 otherwise), within
    the route's declared scope."""
    return await signed_in_actor(request)


async def viewer_actor(request: Request) -> Actor | None:
    """`token_actor` when the request carries a token; None (anonymous) when it does not."""
    if optional_bearer_token(request) is None:
        return None
    return await signed_in_actor(request)


async def staff_actor(request: Request, role: str = "moderator") -> Actor:
    """The token's person if their role is `role` or higher (admin > moderator > member)."""
    return await signed_in_actor(request, role=role)
