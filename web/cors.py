"""Cross-origin access to the client API, as Mastodon allows it.

Browser apps (Elk, Phanpy, Mastodon's web client pointed at another host) call the API
from their own origin, so every answer under the API's paths must allow any origin, and a
preflight (OPTIONS) must be answered before the route table sees it: a route lists only
its own methods and would refuse it with 405, and a preflight carries no token.

Credentials are bearer tokens that the app sends itself, never cookies, so no
`Access-Control-Allow-Credentials`: a page on another origin cannot act with a visitor's
session cookie here. Pages, forms and ActivityPub documents stay same-origin.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Mastodon's list (config/initializers/cors.rb), plus NodeInfo, which discovery reads, and
# files by CID, which the trustless gateway specification opens to every origin.
CORS_PREFIXES = ("/api/", "/.well-known/", "/nodeinfo/", "/ipfs/")
CORS_PATHS = frozenset({"/oauth/token", "/oauth/revoke"})
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
# Paging and rate limits, which apps read from the answer's headers.
EXPOSED_HEADERS = ("Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
PREFLIGHT_MAX_AGE = 86400


def is_cross_origin_path(path: str) -> bool:
    return path in CORS_PATHS or path.startswith(CORS_PREFIXES)


class ApiCors:
    """Starlette's CORSMiddleware, on the API's paths only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_cross_origin_path(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
