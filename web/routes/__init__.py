"""Thin route handlers: parse the request, call the packages below, shape the response."""

from typing import Any

from starlette.routing import BaseRoute

from web.scopes import Declared, ScopedRoute


def both(
    path: str, endpoint: Any, *, scope: Declared, methods: list[str] | None = None
) -> list[BaseRoute]:
    """The path with and without the trailing slash some apps add."""
    return [
        ScopedRoute(path, endpoint, scope=scope, methods=methods),
        ScopedRoute(f"{path}/", endpoint, scope=scope, methods=methods),
    ]
