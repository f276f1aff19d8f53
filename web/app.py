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

from federation.errors import FederationError
from federation.settings import Settings
from web.activitypub import designs, featured, ipfs, members, thumbnails, wellknown
from web.activitypub import endpoints as activitypub
from web.api import account_admin, accounts, coop, invites, moderation, reports
from web.api import designs as api
from web.api import edits as api_edits
from web.api import maker_spaces as api_maker_spaces
from web.api import makes as api_makes
from web.api import okh as api_okh
from web.api import openapi as api_openapi
from web.cors import ApiCors
from web.http import federation_error_handler, http_error_handler, server_error_handler
from web.instance_start import open_instance
from web.mastodon import accounts as mastodon_accounts
from web.mastodon import apps as oauth_apps
from web.mastodon import instance as instance_api
from web.mastodon import media as mastodon_media
from web.mastodon import notifications as mastodon_notifications
from web.mastodon import oauth
from web.mastodon import openapi as mastodon_openapi
from web.mastodon import search as mastodon_search
from web.mastodon import startup as mastodon_startup
from web.mastodon import statuses as mastodon_statuses
from web.mastodon import timelines as mastodon_timelines
from web.mastodon.compose import edits as mastodon_edits
from web.mastodon.compose import favourites as mastodon_favourites
from web.mastodon.compose import pins as mastodon_pins
from web.mastodon.compose import polls as mastodon_polls
from web.mastodon.compose import scheduled as mastodon_scheduled
from web.mastodon.social import conversations as mastodon_conversations
from web.mastodon.social import filters as mastodon_filters
from web.mastodon.social import follow_requests as mastodon_follow_requests
from web.mastodon.social import lists as mastodon_lists
from web.mastodon.social import markers as mastodon_markers
from web.mastodon.social import openapi as social_openapi
from web.mastodon.social import push as mastodon_push
from web.mastodon.social import relations as mastodon_relations
from web.mastodon.social import tags as mastodon_tags
from web.mastodon.streaming import routes as mastodon_streaming
from web.negotiation import negotiated, wants_html
from web.ops import health as ops
from web.outage_answers import OutageAnswers
from web.pages import about
from web.pages import accounts as web_accounts
from web.pages import actors as actor_pages
from web.pages import designs as web_designs
from web.pages import follow_requests as web_follow_requests
from web.pages import makes as web_makes
from web.pages import notes as note_pages
from web.pages import publish as web_publish
from web.pages import versions as version_pages
from web.routing import IndexedRouter
from web.security_headers import SecurityHeaders
from web.static_assets import StaticAssets
from web.templating import STATIC_DIR, make_templates


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

    static = StaticAssets.build(STATIC_DIR)
    routes = [
        Route("/@{username}", profile_redirect),
        *ops.routes,
        *wellknown.routes,
        # One URL, two faces: the ActivityStreams document or the page, chosen by Accept.
        Route("/users/{username}", negotiated(activitypub.actor_document, actor_pages.actor_html)),
        Route(
            "/notes/{note_id}",
            negotiated(activitypub.note_document, note_pages.note_html, to_page=wants_html),
        ),
        Route(
            "/users/{slug}/versions/{number:int}",
            negotiated(designs.version_document, version_pages.version_html),
        ),
        *activitypub.routes,
        *version_pages.routes,
        *designs.routes,
        *api.routes,
        *api_edits.routes,
        *api_makes.routes,
        *api_maker_spaces.routes,
        *api_okh.routes,
        *accounts.routes,
        *invites.routes,
        *account_admin.routes,
        *moderation.routes,
        *reports.routes,
        *instance_api.routes,
        *about.routes,
        *members.routes,
        *coop.routes,
        *mastodon_accounts.routes,
        *mastodon_markers.routes,
        *mastodon_follow_requests.routes,
        *mastodon_media.routes,
        *mastodon_conversations.routes,
        *mastodon_filters.routes,
        *mastodon_lists.routes,
        *mastodon_notifications.routes,
        *mastodon_relations.routes,
        *mastodon_push.routes,
        *mastodon_search.routes,
        *mastodon_startup.routes,
        *mastodon_statuses.routes,
        *mastodon_edits.routes,
        *mastodon_polls.routes,
        *mastodon_favourites.routes,
        *mastodon_pins.routes,
        *featured.routes,
        *mastodon_scheduled.routes,
        *mastodon_tags.routes,
        *mastodon_streaming.routes,
        *mastodon_timelines.routes,
        *oauth.routes,
        *oauth_apps.routes,
        *web_accounts.routes,
        *web_follow_requests.routes,
        *web_designs.routes,
        *web_publish.routes,
        *web_makes.routes,
        *thumbnails.routes,
        *ipfs.routes,
        Mount("/static", app=static, name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            FederationError: federation_error_handler,
            HTTPException: http_error_handler,
            500: server_error_handler,
        },
    )
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.templates = make_templates(static)
    # The OpenAPI description is each face's fragment, merged when /api/v1/openapi.json is read.
    app.state.openapi = (api_openapi.FRAGMENT, mastodon_openapi.FRAGMENT, social_openapi.FRAGMENT)
    # Innermost of our layers, so an outage's answer is counted and gets security headers.
    app.add_middleware(OutageAnswers)
    ops.install(app)
    app.add_middleware(SecurityHeaders, scheme=settings.scheme)
    # Outermost, so every answer on the API's paths allows other origins, an outage's too.
    app.add_middleware(ApiCors)
    return app
