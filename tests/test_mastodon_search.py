"""Mastodon's search (GET /api/v2/search and /api/v1/search), on real instances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from objects.design_models import DesignVersion
from objects.models import Note
from tests.support import Node, count, get
from tests.test_mastodon_statuses import design, post

SEARCH = "/api/v2/search"


async def search(node: Node, token: str | None = None, **params: Any) -> dict[str, Any]:
    response = await get(node, SEARCH, token, **params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def refuse_licence(node: Node, uri: str) -> None:
    """Make `node` publish the version under a licence no instance accepts."""
    async with node.instance.sessions() as session:
        version = await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))
        assert version is not None
        version.licence = {"terms": "Made-Up-1.0"}
        await session.commit()


async def test_resolve_a_remote_person_by_handle_and_by_url(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    bob, _ = await b.user("bob")
    assert (await search(a, token, q="@bob@b.test"))["accounts"] == []
    [by_handle] = (await search(a, token, q="@bob@b.test", resolve="true"))["accounts"]
    assert by_handle["acct"] == "bob@b.test" and by_handle["uri"] == bob.uri
    [by_url] = (await search(a, token, q=bob.uri, resolve="true", type="accounts"))["accounts"]
    assert by_url["id"] == by_handle["id"]


async def test_resolve_remote_design_versions_checking_their_licence(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    lamp = await design(b, bob_token, "lamp")
    chair = await design(b, bob_token, "chair")
    await refuse_licence(b, chair["id"])

    [status] = (await search(a, token, q=lamp["id"], resolve="true"))["statuses"]
    assert status["id"].startswith("v") and status["uri"] == lamp["id"]
    assert "(MIT)" in status["content"] and status["account"]["acct"] == "lamp@b.test"
    assert await count(a, DesignVersion) == 1
    refused = await search(a, token, q=chair["id"], resolve="true")
    assert refused == {"accounts": [], "statuses": [], "hashtags": []}
    assert await count(a, DesignVersion) == 1

    # Stored now, so found without resolving and without a token.
    [again] = (await search(a, q=lamp["id"]))["statuses"]
    assert again["id"] == status["id"]


async def test_resolve_a_remote_note_by_url(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    note = await post(b, bob_token, "Hello from b")
    [status] = (await search(a, token, q=note["uri"], resolve="true"))["statuses"]
    assert "Hello from b" in status["content"] and status["account"]["acct"] == "bob@b.test"
    assert await count(a, Note) == 1


async def test_no_resolving_without_a_token(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    bob, bob_token = await b.user("bob")
    note = await post(b, bob_token, "Hello from b")
    empty: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    assert await search(a, q="@bob@b.test", resolve="true") == empty
    assert await search(a, q=bob.uri, resolve="true") == empty
    assert await search(a, q=note["uri"], resolve="true") == empty
    assert await count(a, Note) == 0


async def test_text_finds_local_designs_notes_and_tags(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    lamp = await design(a, token, "lamp", tags="lighting,desk")
    await design(a, token, "chair", tags="seating")
    note = await post(a, token, "My new LAMP shade")

    by_name = (await search(a, q="lamp", type="statuses"))["statuses"]
    assert [s["uri"] for s in by_name] == [note["uri"], lamp["id"]]
    [by_tag] = (await search(a, q="#desk", type="statuses"))["statuses"]
    assert by_tag["uri"] == lamp["id"]

    results = await search(a, q="light")
    assert results["hashtags"] == [
        {"name": "lighting", "url": "https://a.test/tags/lighting", "history": []}
    ]
    assert results["statuses"] == [] and results["accounts"] == []
    assert (await get(a, "/api/v1/search", q="seat")).json()["hashtags"] == ["seating"]


async def test_type_filter_and_paging(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await a.user("alina")
    for slug in ("alpha", "alder", "alloy"):
        await design(a, token, slug, tags=slug)

    only_accounts = await search(a, token, q="al", type="accounts")
    assert [acct["acct"] for acct in only_accounts["accounts"]] == [
        "alice",
        "alina",
        "alpha",
        "alder",
        "alloy",
    ]
    assert only_accounts["statuses"] == [] and only_accounts["hashtags"] == []
    only_tags = await search(a, q="al", type="hashtags", limit="2", offset="1")
    assert [tag["name"] for tag in only_tags["hashtags"]] == ["alloy", "alpha"]
    first = (await search(a, q="al", type="statuses", limit="2"))["statuses"]
    rest = (await search(a, q="al", type="statuses", limit="2", offset="2"))["statuses"]
    assert len(first) == 2 and len(rest) == 1
    assert {s["id"] for s in first}.isdisjoint(s["id"] for s in rest)
    bad = await get(a, SEARCH, q="al", type="people")
    assert bad.status_code == 422
