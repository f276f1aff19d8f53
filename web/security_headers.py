"""Security headers on every HTML page: a strict Content-Security-Policy and its companions.

Pure ASGI middleware: it only adds headers to `http.response.start` and passes every body
message through untouched, so streaming and JSON answers are unaffected. Only HTML gets
the policy (JSON and ActivityPub documents are never rendered as pages), and a response
that set its own policy (the sandbox of uploaded files) keeps it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    # Remote avatars and previews come from anywhere over https; the 3D viewer uses blobs.
    "img-src": "'self' data: blob: https:",
    "connect-src": "'self'",
    "font-src": "'self'",
    # https: because a form may end in a redirect to another instance (following from your
    # own instance), and browsers check form-action against such redirects too. An
    # instance served over plain http (development, tests) federates over http: then too.
    "form-action": "'self' https:",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
# After the OAuth authorize form, the answer redirects to the app's redirect_uri, which is
# often a custom scheme (myapp://callback) that no form-action list could name in advance.
# That page posts only to itself, so it goes without form-action, as Mastodon's does.
_NO_FORM_ACTION = frozenset({"/oauth/authorize"})


def page_policy(scheme: str = "https", without: frozenset[str] = frozenset()) -> str:
    policy = dict(_POLICY)
    if scheme == "http":
        policy["form-action"] += " http:"
    return "; ".join(f"{name} {value}" for name, value in policy.items() if name not in without)


PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, scheme: str = "https") -> None:
        self.app = app
        self.page_policy = page_policy(scheme)
        self.oauth_policy = page_policy(scheme, without=frozenset({"form-action"}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.oauth_policy if scope["path"] in _NO_FORM_ACTION else self.page_policy

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_page_headers(MutableHeaders(scope=message), policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# A picture needs nothing: an SVG opened on its own may neither run nor load anything.
PICTURE_POLICY = "default-src 'none'"


def _add_page_headers(headers: MutableHeaders, policy: str) -> None:
    content_type = headers.get("content-type", "").lower()
    if content_type.startswith("image/svg+xml"):
        headers.setdefault("content-security-policy", PICTURE_POLICY)
        headers.setdefault("x-content-type-options", "nosniff")
        return
    if not content_type.startswith("text/html"):
        return
    headers.setdefault("content-security-policy", policy)
    for name, value in PAGE_HEADERS.items():
        headers.setdefault(name, value)
