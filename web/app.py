"""The Starlette application factory."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from federation.errors import FederationError
from federation.settings import Settings
from web.cors import ApiCors
from web.http import federation_error_handler, http_error_handler
from web.instance import open_instance
from web.outage_answers import OutageAnswers
from web.pages import STATIC_DIR, make_templates
from web.routes import (
    accounts,
    activitypub,
    api,
    api_edits,
    designs,
    instance_api,
    ipfs,
    mastodon_accounts,
    mastodon_media,
    mastodon_notifications,
    mastodon_search,
    mastodon_startup,
    mastodon_statuses,
    mastodon_streaming,
    mastodon_timelines,
    moderation,
    oauth,
    ops,
    reports,
    thumbnails,
    web_accounts,
    web_designs,
    web_publish,
    wellknown,
)
from web.routing import IndexedRouter
from web.security_headers import SecurityHeaders


async def profile_redirect(request: Request) -> Response:
    return RedirectResponse(f"/users/{request.path_params['username']}", status_code=302)


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    run_workers: bool = True,
) -> Starlette:
    """An instance as an ASGI app; its lifespan owns the engine, HTTP client and workers.

    Tests pass `transport` to connect several in-process instances, and
    `run_workers=False` to step the workers themselves.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_instance(settings, transport=transport) as instance:
            app.state.instance = instance
            # What exists now lives as long as the process: keep it out of every GC pass.
            gc.freeze()
            instance.start_refreshing()
            if run_workers:
                instance.start_workers()
            try:
                yield
            finally:
                await instance.stop_workers()

    routes = [
        Route("/@{username}", profile_redirect),
        *ops.routes,
        *wellknown.routes,
        *activitypub.routes,
        *designs.routes,
        *api.routes,
        *api_edits.routes,
        *accounts.routes,
        *moderation.routes,
        *reports.routes,
        *instance_api.routes,
        *mastodon_accounts.routes,
        *mastodon_media.routes,
        *mastodon_notifications.routes,
        *mastodon_search.routes,
        *mastodon_startup.routes,
        *mastodon_statuses.routes,
        *mastodon_streaming.routes,
        *mastodon_timelines.routes,
        *oauth.routes,
        *web_accounts.routes,
        *web_designs.routes,
        *web_publish.routes,
        *thumbnails.routes,
        *ipfs.routes,
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            FederationError: federation_error_handler,
            HTTPException: http_error_handler,
        },
    )
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.templates = make_templates()
    # Innermost of our layers, so an outage's answer is counted and gets security headers.
    app.add_middleware(OutageAnswers)
    ops.install(app)
    app.add_middleware(SecurityHeaders, scheme=settings.scheme)
    # Outermost, so every answer on the API's paths allows other origins, an outage's too.
    app.add_middleware(ApiCors)
    return app
