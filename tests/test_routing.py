"""The indexed router picks exactly the route Starlette's own router would."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from web.routing import IndexedRouter, literal_start


def answer(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


ROUTES = [
    Route("/", answer("root")),
    Route("/items/{id}", answer("item")),
    Route("/items/new", answer("new")),  # shadowed by the parameter route above
    Route("/items", answer("items-get"), methods=["GET"]),
    Route("/items/{id}/parts/{part:int}", answer("part")),
    Route("/about", answer("about"), methods=["POST"]),
    Route("/about", answer("about-get"), methods=["GET"]),
    Route("/slash/", answer("slash")),
    Route("/@{name}", answer("handle")),
]
REQUESTS = [
    ("GET", "/"),
    ("GET", "/items/7"),
    ("GET", "/items/new"),
    ("GET", "/items"),
    ("POST", "/items"),  # 405
    ("GET", "/items/7/parts/3"),
    ("GET", "/items/7/parts/x"),  # 404: not an int
    ("GET", "/about"),
    ("POST", "/about"),
    ("DELETE", "/about"),  # 405
    ("GET", "/slash"),  # redirect to /slash/
    ("GET", "/@bob"),
    ("GET", "/nowhere"),
]


def test_literal_start_is_the_part_before_the_first_parameter() -> None:
    assert literal_start(Route("/users/{name}/outbox", answer("x"))) == "/users/"
    assert literal_start(Route("/api/v1/instance", answer("x"))) == "/api/v1/instance"


async def responses(app: Starlette) -> list[tuple[int, str, str | None]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        found = []
        for method, path in REQUESTS:
            response = await client.request(method, path)
            found.append((response.status_code, response.text, response.headers.get("location")))
        return found


async def test_the_same_answers_as_starlettes_router() -> None:
    plain = Starlette(routes=ROUTES)
    indexed = Starlette(routes=ROUTES)
    indexed.router = IndexedRouter(ROUTES)
    assert isinstance(plain.router, Router)
    expected = await responses(plain)
    assert expected[1][1] == "item {'id': '7'}" and expected[2][1] == "item {'id': 'new'}"
    assert [status for status, _, _ in expected].count(405) == 2
    assert await responses(indexed) == expected


def test_a_path_narrows_to_the_routes_it_can_match() -> None:
    router = IndexedRouter(ROUTES)
    paths = [route.path for route in router.candidates("/items/7/parts/3")]  # type: ignore[attr-defined]
    assert paths == ["/", "/items/{id}", "/items", "/items/{id}/parts/{part:int}"]
