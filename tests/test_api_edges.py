"""The API's edges as browser apps and client libraries meet them: CORS on the API's
paths, JSON for every error there (the router's own 404 and 405 too), NodeInfo that names
the Mastodon API we speak, and paging cursors that name nothing."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from tests.support import Node, call, get

APP_ORIGIN = "https://elk.example"
EXPOSED = {"link", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}
TRIED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def listed(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


async def preflight(node: Node, path: str, method: str) -> Any:
    headers = {
        "Origin": APP_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }
    return await call(node, "OPTIONS", path, headers=headers)


def assert_cross_origin(response: Any) -> None:
    assert response.headers.get("access-control-allow-origin") == "*", response.headers
    # Bearer tokens, never cookies: another origin is never let in with credentials.
    assert "access-control-allow-credentials" not in response.headers


async def test_preflights_are_answered_without_a_token_on_every_api_path(nodes: Any) -> None:
    a = await nodes("a.test")
    for path, method in (
        ("/api/v1/timelines/home", "GET"),
        ("/api/v1/statuses", "POST"),
        ("/api/v1/statuses/12345", "DELETE"),
        ("/api/v1/accounts/update_credentials", "PATCH"),
        ("/api/v1/nothing/here", "PUT"),
        ("/oauth/token", "POST"),
        ("/oauth/revoke", "POST"),
        ("/.well-known/nodeinfo", "GET"),
    ):
        answer = await preflight(a, path, method)
        assert answer.status_code == 200, (path, answer.text)
        assert_cross_origin(answer)
        assert method in answer.headers["access-control-allow-methods"]
        assert {"authorization", "content-type", "idempotency-key"} <= listed(
            answer.headers["access-control-allow-headers"]
        )


async def test_cross_origin_calls_carry_cors_and_expose_paging(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    origin = {"Origin": APP_ORIGIN}
    registered = await call(
        a,
        "POST",
        "/api/v1/apps",
        headers=origin,
        json={"client_name": "Elk", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"},
    )
    assert registered.status_code == 200, registered.text
    assert_cross_origin(registered)
    app = registered.json()
    issued = await call(
        a,
        "POST",
        "/oauth/token",
        headers=origin,
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert issued.status_code == 200, issued.text
    assert_cross_origin(issued)
    posted = await call(a, "POST", "/api/v1/statuses", token, headers=origin, json={"status": "hi"})
    assert posted.status_code == 200, posted.text
    assert_cross_origin(posted)
    home = await call(a, "GET", "/api/v1/timelines/home", token, headers=origin)
    assert home.status_code == 200 and home.json()[0]["id"] == posted.json()["id"]
    assert_cross_origin(home)
    assert listed(home.headers["access-control-expose-headers"]) >= EXPOSED
    # Refusals reach the app too, so it can read them instead of seeing a network error.
    refused = await call(a, "GET", "/api/v1/timelines/home", headers=origin)
    assert refused.status_code == 401 and "error" in refused.json()
    assert_cross_origin(refused)


async def test_pages_and_forms_stay_same_origin(nodes: Any) -> None:
    a = await nodes("a.test")
    await a.user("alice")
    page = await call(a, "GET", "/users/alice", headers={"Origin": APP_ORIGIN})
    assert page.status_code == 200
    assert "access-control-allow-origin" not in page.headers
    for path in ("/oauth/authorize", "/users/alice", "/oauth/tokens"):
        answer = await preflight(a, path, "POST")
        assert "access-control-allow-origin" not in answer.headers, path


async def test_unknown_api_routes_and_wrong_methods_answer_json(nodes: Any) -> None:
    a = await nodes("a.test")
    for path in ("/api/v1/followed_nothing", "/api/v9/instance", "/oauth/nothing"):
        missing = await get(a, path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"] == "application/json"
        assert missing.json() == {"error": "Not Found"}
    wrong = await call(a, "DELETE", "/api/v1/instance")
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed"}
    assert listed(wrong.headers["allow"]) == {"get", "head"}
    # Elsewhere a browser gets a page and a program Starlette's plain answer, as before.
    page = await call(a, "GET", "/nowhere", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    plain = await get(a, "/nowhere")
    assert plain.status_code == 404 and plain.text == "Not Found"


def _flat(routes: list[BaseRoute]) -> list[BaseRoute]:
    return [
        r
        for route in routes
        for r in (_flat(route.routes) if isinstance(route, Mount) else [route])
    ]


def _a_request_path(path: str) -> str:
    return re.sub(r"\{([a-z_]+)(:[a-z]+)?\}", "999999", path)


async def test_every_api_route_answers_a_wrong_method_with_json(nodes: Any) -> None:
    a = await nodes("a.test")
    allowed: dict[str, set[str]] = {}
    for route in _flat(a.app.routes):
        if isinstance(route, Route) and route.path.startswith(("/api/", "/oauth/")):
            allowed.setdefault(route.path, set()).update(route.methods or ())
    assert len(allowed) > 80  # the walk sees the whole table
    refused = 0
    for path, methods in allowed.items():
        method = next((m for m in TRIED_METHODS if m not in methods), None)
        if method is None:
            continue
        answer = await call(a, method, _a_request_path(path))
        # A few such paths are another route's (GET notifications/clear is GET
        # notifications/:id, which wants a token): whatever refuses, it answers JSON.
        assert answer.headers["content-type"] == "application/json", (method, path)
        assert answer.status_code >= 400 and "error" in answer.json(), (method, path)
        if answer.status_code == 405:
            # Every method of the path, though one route serves each.
            assert listed(answer.headers["allow"]) == listed(",".join(methods)), path
            refused += 1
    assert refused > 80


async def test_nodeinfo_names_the_mastodon_api_we_speak(nodes: Any) -> None:
    a = await nodes("a.test")
    links = (await get(a, "/.well-known/nodeinfo")).json()["links"]
    document = (await get(a, links[0]["href"].removeprefix("https://a.test"))).json()
    assert document["software"]["name"] == "ourdesign"
    # megalodon's detector() takes an unknown software's upstream as its API.
    upstream = document["metadata"]["upstream"]
    assert upstream["name"] == "mastodon"
    for path in ("/api/v1/instance", "/api/v2/instance"):
        version = (await get(a, path)).json()["version"]
        assert version.split(" ", 1)[0] == upstream["version"], path
    # Level 2 means grouped notifications, which are not served: apps must not call them.
    assert (await get(a, "/api/v2/instance")).json()["api_versions"] == {"mastodon": 1}
    assert (await get(a, "/api/v2/notifications")).status_code == 404


async def test_cursors_that_name_nothing_bound_nothing(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    ids = []
    for text in ("first", "second", "third"):
        posted = await call(a, "POST", "/api/v1/statuses", token, json={"status": text})
        ids.append(posted.json()["id"])
    newest_first = ids[::-1]
    home = "/api/v1/timelines/home"
    # A known cursor bounds the page, so the unknown ones below are really ignored.
    assert [s["id"] for s in (await get(a, home, token, max_id=ids[2])).json()] == ids[1::-1]
    for name in ("max_id", "since_id", "min_id"):
        for unknown in ("999999999", "v999999", "nothing", "1" * 40):
            page = await get(a, home, token, **{name: unknown})
            assert page.status_code == 200, (name, unknown, page.text)
            assert [s["id"] for s in page.json()] == newest_first, (name, unknown)
    # Lists paged by their own ids (notifications, bookmarks) read a stray cursor alike.
    for path in ("/api/v1/notifications", "/api/v1/bookmarks"):
        assert (await get(a, path, token, max_id="v1")).status_code == 200, path
