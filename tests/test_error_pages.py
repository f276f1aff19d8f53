"""Every error is a page for a browser (the layout, the security headers, the signed-in
menu), JSON for programs and under /api/ and /oauth/, and plain text for the rest."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from tests.web_support import browser_and_token
from web.http import server_error_handler

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def assert_page(response: Any, status: int, heading: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert f"<h1>{heading}</h1>" in response.text
    assert '<link rel="stylesheet"' in response.text and '<nav aria-label="Site">' in response.text


async def test_unknown_urls_and_error_statuses_are_pages_with_the_menu(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    visitor = node.client()
    for client, menu in ((alice, "@alice"), (visitor, "Sign in")):
        unknown = await client.get("/no/such/page", headers=PAGE)
        assert_page(unknown, 404, "Not found")
        assert "There is no page at this address" in unknown.text and menu in unknown.text
        missing_static = await client.get("/static/nothing.css", headers=PAGE)
        assert_page(missing_static, 404, "Not found")
        no_version = await client.get("/users/nobody/versions/1", headers=PAGE)
        assert_page(no_version, 404, "Not found")
        assert menu in no_version.text
        wrong_method = await client.put("/search", headers=PAGE)
        assert_page(wrong_method, 405, "Method Not Allowed")
        assert menu in wrong_method.text and "GET" in wrong_method.headers["allow"]


async def test_programs_get_json_and_others_plain_text(nodes: Any) -> None:
    node = await nodes("a.test")
    client = node.client()
    for path in ("/api/v1/nothing", "/oauth/nothing"):
        answer = await client.get(path, headers=PAGE)  # even a browser, under the API
        assert answer.status_code == 404 and answer.json() == {"error": "Not Found"}
    as_json = await client.get("/no/such/page", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.json() == {"error": "Not Found"}
    as_ap = await client.get("/no/such/page", headers={"Accept": "application/activity+json"})
    assert as_ap.status_code == 404 and as_ap.json() == {"error": "Not Found"}
    plain = await client.get("/no/such/page", headers={"Accept": "*/*"})
    assert plain.status_code == 404 and plain.text == "Not Found"
    assert plain.headers["x-content-type-options"] == "nosniff"


async def test_a_bug_is_answered_as_a_page_with_its_own_security_headers(nodes: Any) -> None:
    # Starlette sends a 500 from outside every middleware, so the handler is asked directly,
    # with the app of a real instance, as Starlette asks it.
    node = await nodes("a.test")

    def request(accept: str, path: str = "/users/x") -> Request:
        headers = [(b"accept", accept.encode())]
        scope = {"type": "http", "app": node.app, "path": path, "method": "GET"}
        return Request({**scope, "headers": headers, "query_string": b""})

    failure = RuntimeError("a bug")
    page = await server_error_handler(request(PAGE["Accept"]), failure)
    assert page.status_code == 500 and b"<h1>Something went wrong</h1>" in page.body
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    api = await server_error_handler(request(PAGE["Accept"], "/api/v1/designs"), failure)
    assert api.status_code == 500 and b'"error"' in api.body
    plain = await server_error_handler(request("*/*"), failure)
    assert plain.status_code == 500 and plain.body == b"Internal Server Error"
