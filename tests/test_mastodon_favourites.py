"""The favourites and bookmarks lists: newest first by when the person acted, paged by
the Link header's cursors (the favourite's or bookmark's own id), as Mastodon pages them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support import Node, app_token, call, get
from tests.test_mastodon_statuses import post


def link(response: httpx.Response, rel: str) -> dict[str, str]:
    """The query of the Link header's `rel` URL."""
    for part in response.headers["link"].split(", "):
        url, name = part.split("; ")
        if name == f'rel="{rel}"':
            return {k: v[0] for k, v in parse_qs(urlsplit(url.strip("<>")).query).items()}
    raise AssertionError(f"no {rel} link")


async def walk(node: Node, token: str, path: str) -> list[list[str]]:
    """Every page of the list, two at a time, following `next`."""
    pages: list[list[str]] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        response = await get(node, path, token, **params)
        assert response.status_code == 200, response.text
        ids = [status["id"] for status in response.json()]
        if not ids:
            return pages
        pages.append(ids)
        params = link(response, "next")


async def test_favourites_and_bookmarks_page_by_when_they_were_made(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    statuses = [(await post(a, token, f"Status {n}"))["id"] for n in range(5)]
    # Acted on in another order than they were posted: the lists follow the acts.
    order = [statuses[3], statuses[0], statuses[4], statuses[1]]
    for status_id in order:
        for action in ("favourite", "bookmark"):
            done = await call(a, "POST", f"/api/v1/statuses/{status_id}/{action}", bea_token)
            assert done.status_code == 200, done.text
    newest_first = order[::-1]
    for path in ("/api/v1/favourites", "/api/v1/bookmarks"):
        assert await walk(a, bea_token, path) == [newest_first[:2], newest_first[2:]]
        first = await get(a, path, bea_token, limit="2")
        newer = await get(a, path, bea_token, **link(first, "prev"))
        assert newer.json() == []
        older = await get(a, path, bea_token, **link(first, "next"))
        back = await get(a, path, bea_token, **link(older, "prev"))
        assert [s["id"] for s in back.json()] == newest_first[:2]
    assert (await get(a, "/api/v1/favourites", token)).json() == []
    undone = await call(a, "POST", f"/api/v1/statuses/{statuses[4]}/unfavourite", bea_token)
    assert undone.status_code == 200
    listed = [s["id"] for s in (await get(a, "/api/v1/favourites", bea_token)).json()]
    assert listed == [statuses[1], statuses[0], statuses[3]]
    assert all(s["favourited"] for s in (await get(a, "/api/v1/favourites", bea_token)).json())


async def test_favourites_need_a_token_with_read_favourites(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    assert (await get(a, "/api/v1/favourites")).status_code == 401
    wrong = await app_token(a, alice, scopes="read:bookmarks")
    assert (await get(a, "/api/v1/favourites", wrong)).status_code == 403
    right = await app_token(a, alice, scopes="read:favourites")
    assert (await get(a, "/api/v1/favourites", right)).status_code == 200
