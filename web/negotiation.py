"""Content negotiation for ActivityPub URLs that were JSON only: a browser asking for HTML
is sent to the page that shows the object; everything else still gets the JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from web.http import wants_activity_json


def wants_html(request: Request) -> bool:
    """A browser: its Accept names text/html and no ActivityStreams type. Clients sending
    no Accept, or */*, keep getting JSON as before."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not wants_activity_json(request)


def see_page(url: str) -> RedirectResponse:
    """303 to the HTML page of what the collection or activity belongs to."""
    return RedirectResponse(url, status_code=303, headers={"Vary": "Accept"})
