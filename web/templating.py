"""Rendering HTML. The templates environment is built per app, never at import time.

Shared templates (base.html, error.html) are in web/templates; each face keeps its own
beside its routes. Template names are unique across the folders, so a name finds one file.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from objects.html import sanitize_html
from web import form_guard
from web.browser import signed_in
from web.static_assets import StaticAssets

WEB_DIR = Path(__file__).parent
TEMPLATE_DIRS = (
    WEB_DIR / "templates",
    WEB_DIR / "pages" / "templates",
    WEB_DIR / "mastodon" / "templates",
)
STATIC_DIR = WEB_DIR / "static"


def make_templates(static: StaticAssets) -> jinja2.Environment:
    """Templates name static files by `static("site.css")`: their hashed, cacheable URL."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIRS), autoescape=True, enable_async=False
    )
    env.filters["safe_html"] = lambda value: Markup(sanitize_html(value or ""))
    env.globals["static"] = static.url
    return env


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """`template` with `context`. Forms in it call `csrf_field("purpose")`; the cookie that
    the field is bound to is set on the response."""
    instance = request.app.state.instance
    env: jinja2.Environment = request.app.state.templates
    nonces: list[str] = []

    def csrf_field(purpose: str) -> Markup:
        nonce, value = form_guard.issue(request, purpose)
        nonces.append(nonce)
        return Markup('<input type="hidden" name="{}" value="{}">').format(form_guard.FIELD, value)

    html = env.get_template(template).render(
        instance_name=instance.settings.instance_name, csrf_field=csrf_field, **context
    )
    # Pages share their URLs with ActivityStreams documents: caches must key on Accept.
    response = HTMLResponse(html, status_code=status, headers={"vary": "Accept"})
    if nonces:
        form_guard.set_cookie(request, response, nonces[-1])
    return response


# Statuses whose page does not look the viewer up: the database is the trouble.
NO_VIEWER_STATUSES = frozenset({500, 503, 507})


async def render_error_page(
    request: Request, status: int, heading: str, message: str
) -> HTMLResponse:
    """The error page in the site's layout, with the signed-in menu. The viewer is looked up
    unless the failure is the database's own; a page about a failure shows even if that
    lookup fails (then as for a visitor)."""
    viewer = None
    if status not in NO_VIEWER_STATUSES:
        try:
            viewer = await signed_in(request)
        except Exception:  # the error being answered matters more than this lookup
            viewer = None
    return render(request, "error.html", status, viewer=viewer, heading=heading, message=message)


async def render_page(
    request: Request, template: str, status: int = 200, **context: object
) -> HTMLResponse:
    """A page for a browser: `render` with `viewer`, the signed-in person or None."""
    return render(request, template, status, viewer=await signed_in(request), **context)
