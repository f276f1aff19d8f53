"""Response helpers shared by the routes: content negotiation, JSON, errors, paging."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from federation.errors import FederationError
from federation.vocab import ACTIVITY_JSON
from web.security_headers import PAGE_HEADERS, page_policy
from web.templating import render_error_page

log = logging.getLogger(__name__)
PAGE_SIZE = 20


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
        page = await render_error_page(request, exc.status, heading, exc.message)
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
        message = NOT_FOUND_MESSAGE if exc.status_code == 404 else exc.detail
        page = await render_error_page(request, exc.status_code, heading, message)
        page.headers.update(exc.headers or {})
        return page
    if wants_json(request):
        return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))
    plain = PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    plain.headers["x-content-type-options"] = "nosniff"
    return plain


NOT_FOUND_MESSAGE = "there is no page at this address; search for what you were looking for"
SERVER_ERROR = "something went wrong on our side; try again, and tell the admins if it lasts"


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """A bug (500), answered in the usual shapes. Starlette sends this from its outermost
    layer, past the security headers' middleware, so the page sets its own; the traceback
    goes to the log as before."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    if request.url.path.startswith(API_PREFIXES) or wants_json(request):
        return error_response(500, SERVER_ERROR)
    if not _browser_page_request(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    page = await render_error_page(request, 500, "Something went wrong", SERVER_ERROR)
    scheme = request.app.state.instance.settings.scheme
    page.headers["content-security-policy"] = page_policy(scheme)
    page.headers.update(PAGE_HEADERS)
    return page


def wants_json(request: Request) -> bool:
    """A program asking for JSON (an API client, an ActivityPub server)."""
    accept = request.headers.get("accept", "").lower()
    return "json" in accept.split(",", 1)[0] or wants_activity_json(request)


def client_ip(request: HTTPConnection) -> str:
    """The client's address as uvicorn resolved it: its proxy-headers middleware put the
    forwarded address here, and only for a trusted proxy; a header read directly could be
    forged by anyone."""
    return request.client.host if request.client else ""


def _browser_page_request(request: Request) -> bool:
    """A browser navigating (its Accept starts with text/html), not a program asking."""
    accept = request.headers.get("accept", "").lstrip().lower()
    return accept.startswith("text/html") and not wants_activity_json(request)


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
