"""HTML pages. The templates environment is built per app, never at import time."""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from actors.models import Actor
from objects.html import sanitize_html

TEMPLATES_DIR = Path(__file__).parent / "templates"


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, enable_async=False
    )
    env.filters["safe_html"] = lambda value: Markup(sanitize_html(value or ""))
    return env


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    instance = request.app.state.instance
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render(
        instance_name=instance.settings.instance_name, **context
    )
    return HTMLResponse(html, status_code=status)


def render_actor_page(request: Request, actor: Actor) -> HTMLResponse:
    return render(request, "actor.html", actor=actor)


async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")
