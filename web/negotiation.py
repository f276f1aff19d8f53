"""Content negotiation on the URLs ActivityPub and the pages share.

One URL names one thing: an ActivityPub client gets its document (the activitypub face),
a browser its page (the pages face). `negotiated` joins the two handlers in the route
table (web.app), so neither face imports the other. URLs that were JSON only send a
browser to the page that shows the object (`see_page`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web.http import wants_activity_json


def wants_html(request: Request) -> bool:
    """A browser: its Accept names text/html and no ActivityStreams type. Clients sending
    no Accept, or */*, keep getting JSON as before."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not wants_activity_json(request)


def see_page(url: str) -> RedirectResponse:
    """303 to the HTML page of what the collection or activity belongs to."""
    return RedirectResponse(url, status_code=303, headers={"Vary": "Accept"})


Endpoint = Callable[[Request], Awaitable[Response]]


def wants_page(request: Request) -> bool:
    """Anything but an ActivityStreams client: the URL of an actor or a version is a page
    unless ActivityStreams JSON is asked for."""
    return not wants_activity_json(request)


def negotiated(
    document: Endpoint, page: Endpoint, *, to_page: Callable[[Request], bool] = wants_page
) -> Endpoint:
    """One endpoint for a shared URL: `page` when `to_page` says so, else `document`."""

    async def endpoint(request: Request) -> Response:
        return await (page if to_page(request) else document)(request)

    return endpoint
