"""Browsers in tests: a signed-in cookie jar, and the CSRF field of a page's form."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
from sqlalchemy import event

from tests.support import Node
from web.browser import SESSION_COOKIE, start_session
from web.form_guard import FIELD

# A tetrahedron as an ASCII STL: the smallest mesh the thumbnail worker draws.
TETRAHEDRON = b"""solid tetra
facet normal 0 0 -1
 outer loop
  vertex 0 0 0
  vertex 0 1 0
  vertex 1 0 0
 endloop
endfacet
facet normal 0 -1 0
 outer loop
  vertex 0 0 0
  vertex 1 0 0
  vertex 0 0 1
 endloop
endfacet
facet normal -1 0 0
 outer loop
  vertex 0 0 0
  vertex 0 0 1
  vertex 0 1 0
 endloop
endfacet
facet normal 1 1 1
 outer loop
  vertex 1 0 0
  vertex 0 1 0
  vertex 0 0 1
 endloop
endfacet
endsolid tetra
"""


async def browser_and_token(
    node: Node, username: str, kind: str = "individual"
) -> tuple[httpx.AsyncClient, str]:
    """A client of `node` signed in as a new person `username` (a real session row), and
    that person's API token."""
    actor, api_token = await node.user(username, kind)
    async with node.instance.sessions() as session:
        token = await start_session(session, actor, "tests")
        await session.commit()
    client = node.client(follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token, domain=node.domain)
    return client, api_token


async def signed_in_browser(
    node: Node, username: str, kind: str = "individual"
) -> httpx.AsyncClient:
    """A client of `node` signed in as a new person `username` (a real session row)."""
    client, _ = await browser_and_token(node, username, kind)
    return client


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = {"@action": found.get("action", ""), "@id": found.get("id", "")}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and found.get("type") == "hidden":
            self._current[found.get("name", "")] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF field included) of the first form posting to `action`."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["@action"] == action:
            return {k: v for k, v in form.items() if not k.startswith("@")}
    raise AssertionError(f"no form posting to {action!r} in the page")


async def csrf_for(client: httpx.AsyncClient, page: str, action: str) -> dict[str, str]:
    """Open `page` (setting the form cookie) and return the hidden fields of its form."""
    response = await client.get(page)
    assert response.status_code == 200, response.text[:500]
    fields = hidden_fields(response.text, action)
    assert FIELD in fields, f"the form posting to {action!r} has no CSRF field"
    return fields


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed (for assertions on what shows)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def html_page(node: Node, path: str, status: int = 200) -> str:
    """The page at `path` as a browser gets it (HTML, with `status`)."""
    async with node.client(headers={"Accept": "text/html"}) as client:
        response = await client.get(path)
    assert response.status_code == status, response.text[:800]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def statements_of(node: Node, path: str) -> list[str]:
    """The SQL statements the instance runs to render the page at `path`."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    engine = node.instance.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await html_page(node, path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen
