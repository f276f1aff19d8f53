"""Thin route handlers: parse the request, call the packages below, shape the response."""

from typing import Any

from starlette.routing import BaseRoute, Route


def both(path: str, endpoint: Any, methods: list[str] | None = None) -> list[BaseRoute]:
    """The path with and without the trailing slash some apps add."""
    return [Route(path, endpoint, methods=methods), Route(f"{path}/", endpoint, methods=methods)]
