"""OAuth scopes, declared on every route of the table and held by every one of them.

The walk reads the whole application's route table, as `web.app.create_app` assembles it:
a route under /api/ or /oauth/, or an outbox, must declare its scope (or that it is
public). Then, on a real instance, every route that declares a scope is called with a
token holding every scope except those that cover it (403, as Mastodon answers), and
with a token holding just that scope (not refused for its scope).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from actors.models import Actor, OAuthApp
from actors.oauth import KNOWN_SCOPES, OUTSIDE_SCOPES, is_write_scope, scope_covers
from actors.service import create_token, token_row
from federation.settings import Settings
from tests.support import Node, call
from web.app import create_app
from web.bearer import token_actor
from web.scopes import PUBLIC, ScopedRoute, ScopedWebSocketRoute

GUARDED = re.compile(r"^/(api|oauth)/|/outbox$")
# A value for each path parameter that matches the route and names nothing that exists.
PARAMETERS = {"username": "admin", "slug": "nothing-here", "code": "nothing-here"}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
ANSWER_SECONDS = 10


def _routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(route.routes)
        else:
            yield route


def route_table(tmp_path: Path) -> list[BaseRoute]:
    settings = Settings(domain="a.test", scheme="https", data_dir=tmp_path)
    return list(_routes(create_app(settings, run_workers=False).routes))


def test_every_api_oauth_and_outbox_route_declares_its_scope(tmp_path: Path) -> None:
    table = route_table(tmp_path)
    guarded = [route for route in table if GUARDED.search(getattr(route, "path", ""))]
    assert len(guarded) > 100  # the walk sees the whole table, not a part of it
    undeclared = [
        f"{sorted(getattr(route, 'methods', None) or [])} {route.path}"  # type: ignore[attr-defined]
        for route in guarded
        if not isinstance(route, ScopedRoute | ScopedWebSocketRoute)
    ]
    assert not undeclared, f"routes that declare no OAuth scope: {undeclared}"
    unknown = [
        (route.path, scope)  # type: ignore[attr-defined]
        for route in table
        if isinstance(route, ScopedRoute | ScopedWebSocketRoute)
        for scope in route.needs or ()
        if scope not in KNOWN_SCOPES
    ]
    assert not unknown, f"routes declaring scopes Mastodon does not have: {unknown}"
    read_only = [
        route.path
        for route in table
        if isinstance(route, ScopedRoute)
        and route.needs
        and set(route.methods or ()) <= set(WRITES)
        and not all(map(is_write_scope, route.needs))
    ]
    assert not read_only, f"routes that change things with a read scope: {read_only}"


async def test_a_route_that_declares_nothing_resolves_no_token() -> None:
    """A plain route, or a public one, that asks for a token is a programming error: it
    fails closed instead of answering as the token's holder."""

    async def handler(request: Request) -> Response:
        await token_actor(request)
        return Response("answered as the token's holder")

    app = Starlette(
        routes=[Route("/plain", handler), ScopedRoute("/public", handler, scope=PUBLIC)]
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="https://a.test") as client:
        for path, why in (("/plain", "declares no OAuth scope"), ("/public", "declared public")):
            with pytest.raises(RuntimeError, match=why):
                await client.get(path, headers={"Authorization": "Bearer x"})


def _documented_scopes() -> dict[str, str]:
    """ "METHOD path" -> scope, as the table under "Scopes of every route" lists them."""
    text = (Path(__file__).parent.parent / "docs" / "MASTODON.md").read_text()
    section = text.split("### Scopes of every route", 1)[1].split("\n#", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return {
        route: scope.strip("| ")
        for scope, routes in rows[2:]
        for route in re.findall(r"`([A-Z/]+ [^`]+)`", routes)
    }


def _declared(route: ScopedRoute | ScopedWebSocketRoute) -> str:
    if route.needs is None:
        return "public"
    return " or ".join(f"`{scope}`" for scope in route.needs) or "any token"


def test_the_documented_scopes_are_the_declared_ones(tmp_path: Path) -> None:
    declared = {}
    for route in route_table(tmp_path):
        if isinstance(route, ScopedRoute | ScopedWebSocketRoute) and not route.path.endswith("/"):
            web_socket = isinstance(route, ScopedWebSocketRoute)
            methods = "WS" if web_socket else "/".join(sorted(set(route.methods or ()) - {"HEAD"}))
            declared[f"{methods} {route.path}"] = _declared(route)
    documented = _documented_scopes()
    differences = {
        route: (documented.get(route), declared.get(route))
        for route in declared.keys() | documented.keys()
        if documented.get(route) != declared.get(route)
    }
    assert not differences, f"docs/MASTODON.md (documented, declared): {differences}"


def _request_path(route: Route) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return PARAMETERS.get(name, "999999")

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, route.path)


def _scoped_http_routes(table: list[BaseRoute]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, scopes) of every HTTP route that declares scopes."""
    found = []
    for route in table:
        if isinstance(route, ScopedRoute) and route.needs:
            method = sorted(set(route.methods or {"GET"}) - {"HEAD"})[0]
            found.append((method, _request_path(route), route.needs))
    return found


def not_covering(needs: tuple[str, ...]) -> str:
    """Every known scope but those that would grant one of `needs`."""
    return " ".join(s for s in KNOWN_SCOPES if not any(scope_covers([s], n) for n in needs))


async def scoped_tokens(node: Node, actor_id: int, grants: set[str]) -> dict[str, str]:
    """One token of one OAuth app per grant (a space-separated list of scopes)."""
    tokens: dict[str, str] = {}
    async with node.instance.sessions() as session:
        app = OAuthApp(
            client_id=secrets.token_hex(8), client_secret_hash="x", name="walk", redirect_uris=""
        )
        session.add(app)
        await session.flush()
        actor = await session.get(Actor, actor_id)
        assert actor is not None
        for grant in grants:
            token = await create_token(session, actor, "walk", scopes=grant)
            row = await token_row(session, token)
            assert row is not None
            row.app_id = app.id
            tokens[grant] = token
        await session.commit()
    return tokens


async def _answer(node: Node, method: str, path: str, token: str, **body: Any) -> tuple[int, Any]:
    """Status and JSON body; (0, None) for an answer that did not end (a stream let in)."""
    try:
        response = await asyncio.wait_for(call(node, method, path, token, **body), ANSWER_SECONDS)
    except TimeoutError:
        return 0, None
    is_json = response.headers.get("content-type", "").startswith("application/json")
    return response.status_code, response.json() if is_json else None


async def test_every_declared_scope_is_required(nodes, tmp_path: Path) -> None:
    a: Node = await nodes("a.test")
    admin, _ = await a.user("admin", role="admin")
    routes = _scoped_http_routes(route_table(tmp_path / "table"))
    grants = {not_covering(needs) for _, _, needs in routes} | {n[0] for _, _, n in routes}
    tokens = await scoped_tokens(a, admin.id, grants)

    wrongly_allowed = []
    for method, path, needs in routes:
        body = {"json": {}} if method in WRITES else {}
        # Twice for reads: the second answer comes through the sign-in cache.
        for _ in range(1 if method in WRITES else 2):
            answer = await _answer(a, method, path, tokens[not_covering(needs)], **body)
            if answer != (403, {"error": OUTSIDE_SCOPES}):
                wrongly_allowed.append(f"{method} {path} {needs}: {answer[0]}")
    assert not wrongly_allowed, wrongly_allowed

    wrongly_refused = []
    for method, path, needs in routes:
        if path.startswith("/api/v1/streaming"):
            continue  # it would stream until the client leaves
        body = {"json": {}} if method in WRITES else {}
        allowed = await call(a, method, path, tokens[needs[0]], **body)
        if allowed.status_code == 403 and allowed.json() == {"error": OUTSIDE_SCOPES}:
            wrongly_refused.append(f"{method} {path} {needs}")
    assert not wrongly_refused, wrongly_refused


async def _websocket_answer(node: Node, path: str, token: str) -> dict[str, Any]:
    """The first message the app sends to a WebSocket handshake carrying `token`."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "wss",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"stream=public",
        "headers": [
            (b"host", node.domain.encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": (node.domain, 443),
        "extensions": {"websocket.http.response": {}},
    }
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    served = asyncio.create_task(node.app(scope, incoming.get, outgoing.put))
    try:
        return await asyncio.wait_for(outgoing.get(), ANSWER_SECONDS)
    finally:
        await incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(served, ANSWER_SECONDS)


async def test_every_websocket_route_requires_its_scope(nodes, tmp_path: Path) -> None:
    a: Node = await nodes("a.test")
    alice, _ = await a.user("alice")
    sockets = [
        route
        for route in route_table(tmp_path / "table")
        if isinstance(route, ScopedWebSocketRoute) and route.needs
    ]
    assert sockets
    for route in sockets:
        tokens = await scoped_tokens(a, alice.id, {not_covering(route.needs), route.needs[0]})
        refused = await _websocket_answer(a, route.path, tokens[not_covering(route.needs)])
        assert refused["type"] == "websocket.http.response.start", refused
        assert refused["status"] == 403
        allowed = await _websocket_answer(a, route.path, tokens[route.needs[0]])
        assert allowed["type"] == "websocket.accept", allowed
