"""The OAuth scope each route needs, declared where the route is: in the route table.

Every route under /api/ or /oauth/, and every outbox, is a `ScopedRoute` (or
`ScopedWebSocketRoute`) and must say `scope=`:

- a scope, Mastodon's names ("read:statuses", "write:favourites", "admin:read:accounts"),
  or a tuple of them of which a token needs one ("read:accounts" or "profile");
- `ANY_TOKEN`: a live token, whatever its scopes (an app checking its own credentials);
- `PUBLIC`: no token; the route never looks one up.

The check is not left to the handler: the route puts its declaration in the request, and
`web.bearer.bearer_sign_in`, the one function that resolves a token, compares the token's
scopes with it. A route that declares a scope also checks any token that comes with the
request before its handler runs, as Mastodon does, whether or not the handler uses it.
`tests/test_route_scopes.py` walks the whole table so that a new route cannot forget.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from web.bearer import ROUTE_SCOPE, bearer_sign_in

PUBLIC = None
ANY_TOKEN: tuple[str, ...] = ()
Declared = str | tuple[str, ...] | None
Endpoint = Callable[[Request], Awaitable[Response]]


def _needs(scope: Declared) -> tuple[str, ...] | None:
    return (scope,) if isinstance(scope, str) else scope


def _checked(endpoint: Endpoint) -> Endpoint:
    """The endpoint, after any token that came is checked against the route's scope."""

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        await bearer_sign_in(request)
        return await endpoint(request)

    return checked


class ScopedRoute(Route):
    """A route that states the OAuth scope its requests' tokens must hold."""

    def __init__(self, path: str, endpoint: Endpoint, *, scope: Declared, **options: Any) -> None:
        self.needs = _needs(scope)
        super().__init__(path, endpoint if self.needs is None else _checked(endpoint), **options)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[ROUTE_SCOPE] = self.needs
        await super().handle(scope, receive, send)


class ScopedWebSocketRoute(WebSocketRoute):
    """A WebSocket route that states its scope; its handler resolves the token."""

    def __init__(self, path: str, endpoint: Any, *, scope: Declared, **options: Any) -> None:
        self.needs = _needs(scope)
        super().__init__(path, endpoint, **options)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[ROUTE_SCOPE] = self.needs
        await super().handle(scope, receive, send)


def both(
    path: str, endpoint: Any, *, scope: Declared, methods: list[str] | None = None
) -> list[BaseRoute]:
    """The path with and without the trailing slash some apps add."""
    return [
        ScopedRoute(path, endpoint, scope=scope, methods=methods),
        ScopedRoute(f"{path}/", endpoint, scope=scope, methods=methods),
    ]
