"""Discovery and the public documents: WebFinger, host-meta, NodeInfo, actors, collections."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from federation.keys import load_public_pem
from federation.webfinger import resolve_handle
from tests.support import Node, call, settle

ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
BASE = "https://disc.test"


async def get(node: Node, path: str, accept: str | None = ACTIVITY_JSON, **params: str) -> Any:
    headers = {"Accept": accept} if accept else {}
    return await call(node, "GET", path, headers=headers, params=params or None)


@pytest.fixture
async def node(nodes: Any) -> Node:
    return await nodes("disc.test")


# --- WebFinger ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "acct:alice@disc.test",
        "acct:alice@DISC.test",
        "acct:Alice@disc.test",
        "acct:@alice@disc.test",
        f"{BASE}/users/alice",
        f"{BASE}/@alice",
    ],
)
async def test_webfinger_finds_a_local_user(node: Node, resource: str) -> None:
    alice, _ = await node.user("alice")
    response = await get(node, "/.well-known/webfinger", accept=None, resource=resource)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/jrd+json"
    assert response.headers["access-control-allow-origin"] == "*"
    jrd = response.json()
    assert jrd["subject"] == "acct:alice@disc.test"
    assert alice.uri in jrd["aliases"]
    (self_link,) = [link for link in jrd["links"] if link["rel"] == "self"]
    assert self_link == {"rel": "self", "type": ACTIVITY_JSON, "href": alice.uri}
    profile = [link for link in jrd["links"] if "profile-page" in link["rel"]]
    assert profile and profile[0]["href"] == f"{BASE}/@alice"

    document = (await get(node, self_link["href"])).json()
    assert document["id"] == self_link["href"]


async def test_webfinger_self_link_resolves_with_our_own_client(node: Node) -> None:
    alice, _ = await node.user("alice")
    async with node.client() as client:
        assert await resolve_handle(client, "@alice@disc.test") == alice.uri


async def test_webfinger_instance_actor(node: Node) -> None:
    response = await get(node, "/.well-known/webfinger", accept=None, resource=f"{BASE}/actor")
    assert response.status_code == 200
    (self_link,) = [link for link in response.json()["links"] if link["rel"] == "self"]
    assert self_link["href"] == f"{BASE}/actor"


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nobody@disc.test",
        "acct:alice@elsewhere.test",
        "acct:alice",
        f"{BASE}/users/nobody",
        f"{BASE}/users/alice/outbox",
        "https://elsewhere.test/users/alice",
        "mailto:alice@disc.test",
    ],
)
async def test_webfinger_unknown_resource_is_404(node: Node, resource: str) -> None:
    await node.user("alice")
    response = await get(node, "/.well-known/webfinger", accept=None, resource=resource)
    assert response.status_code == 404, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert isinstance(response.json()["error"], str)


async def test_webfinger_without_resource_is_400(node: Node) -> None:
    for params in ({}, {"resource": ""}):
        response = await get(node, "/.well-known/webfinger", accept=None, **params)
        assert response.status_code == 400
        assert "resource" in response.json()["error"]


async def test_webfinger_400_has_the_cors_header(node: Node) -> None:
    response = await get(node, "/.well-known/webfinger", accept=None)
    assert response.status_code == 400
    assert response.headers.get("access-control-allow-origin") == "*"


# --- host-meta and NodeInfo ---------------------------------------------------------------


async def test_host_meta_xml(node: Node) -> None:
    response = await get(node, "/.well-known/host-meta", accept=None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    root = ET.fromstring(response.content)
    ns = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
    assert root.tag == f"{ns}XRD"
    (link,) = root.findall(f"{ns}Link")
    assert link.get("rel") == "lrdd"
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"


async def test_host_meta_json(node: Node) -> None:
    response = await get(node, "/.well-known/host-meta.json", accept=None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "links": [{"rel": "lrdd", "template": f"{BASE}/.well-known/webfinger?resource={{uri}}"}]
    }


async def test_nodeinfo(node: Node, nodes: Any) -> None:
    _, alice_token = await node.user("alice")
    await node.user("workshop", kind="cooperative")
    other = await nodes("other.test")
    _, carol_token = await other.user("carol")
    # A remote follower and a post: remote people are not counted, local posts are.
    follow = await other.post_outbox(
        "carol", carol_token, {"type": "Follow", "object": f"{BASE}/users/alice"}
    )
    assert follow.status_code == 201, follow.text
    await settle(node, other)
    posted = await node.post_outbox("alice", alice_token, {"type": "Note", "content": "hello"})
    assert posted.status_code == 201

    links = await get(node, "/.well-known/nodeinfo", accept=None)
    assert links.status_code == 200
    assert links.headers["access-control-allow-origin"] == "*"
    (link,) = links.json()["links"]
    assert link == {
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": f"{BASE}/nodeinfo/2.1",
    }

    response = await get(node, urlsplit(link["href"]).path, accept=None)
    assert response.status_code == 200
    media_type = response.headers["content-type"]
    assert media_type.startswith("application/json")
    assert "ns/schema/2.1" in media_type
    info = response.json()
    assert info["version"] == "2.1"
    assert info["software"]["name"] == "ourdesign"
    assert isinstance(info["software"]["version"], str) and info["software"]["version"]
    assert info["protocols"] == ["activitypub"]
    assert set(info["services"]) == {"inbound", "outbound"}
    assert isinstance(info["openRegistrations"], bool)
    # Members only: alice and workshop; not carol, nor the instance or cooperative actors.
    assert info["usage"]["users"]["total"] == 2
    assert info["usage"]["localPosts"] == 1
    assert isinstance(info["metadata"], dict)


# --- actor documents ----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [ACTIVITY_JSON, LD_JSON, "application/ld+json"])
async def test_actor_document(node: Node, accept: str) -> None:
    coop, _ = await node.user("makers", kind="cooperative")
    response = await get(node, "/users/makers", accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == ACTIVITY_JSON
    doc = response.json()
    context = doc["@context"]
    assert context[0] == AS_CONTEXT and "https://w3id.org/security/v1" in context
    assert doc["id"] == f"{BASE}/users/makers" == coop.uri
    assert doc["type"] == "Person"
    assert doc["preferredUsername"] == "makers"
    assert doc["name"] == "makers"
    assert doc["summary"] == ""
    assert doc["url"] == f"{BASE}/@makers"
    assert doc["inbox"] == f"{BASE}/users/makers/inbox"
    assert doc["outbox"] == f"{BASE}/users/makers/outbox"
    assert doc["followers"] == f"{BASE}/users/makers/followers"
    assert doc["following"] == f"{BASE}/users/makers/following"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["entityKind"] == "cooperative"
    key = doc["publicKey"]
    assert key["id"] == f"{BASE}/users/makers#main-key" == coop.public_key_id
    assert key["owner"] == doc["id"]
    assert key["publicKeyPem"] == coop.public_key_pem
    load_public_pem(key["publicKeyPem"])


async def test_actor_html_page(node: Node) -> None:
    await node.user("alice")
    for accept in ("text/html", "text/html,application/xhtml+xml,*/*;q=0.8", None):
        response = await get(node, "/users/alice", accept=accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "@alice@disc.test" in response.text
        assert f'href="{BASE}/users/alice"' in response.text  # the alternate link to the JSON


async def test_profile_url_redirects_to_the_actor(node: Node) -> None:
    await node.user("alice")
    response = await get(node, "/@alice", accept="text/html")
    assert response.status_code == 302
    assert response.headers["location"] == "/users/alice"


@pytest.mark.parametrize("path", ["/users/nobody", "/users/instance.actor"])
async def test_unknown_actor_is_404(node: Node, path: str) -> None:
    response = await get(node, path)
    assert response.status_code == 404
    assert isinstance(response.json()["error"], str)


async def test_instance_actor(node: Node) -> None:
    for accept in (ACTIVITY_JSON, LD_JSON):
        response = await get(node, "/actor", accept=accept)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == ACTIVITY_JSON
        doc = response.json()
        assert doc["id"] == f"{BASE}/actor"
        assert doc["type"] == "Application"
        assert doc["inbox"] == f"{BASE}/inbox"
        assert doc["publicKey"]["id"] == f"{BASE}/actor#main-key"
        assert doc["publicKey"]["owner"] == doc["id"]
        load_public_pem(doc["publicKey"]["publicKeyPem"])
        assert "outbox" not in doc  # it posts nothing


# --- collections --------------------------------------------------------------------------


async def _pages(node: Node, collection: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The collection and every page reached by following `first` and then `next`."""
    top = (await get(node, collection)).json()
    pages: list[dict[str, Any]] = []
    url: str | None = top["first"]
    while url is not None:
        assert len(pages) < 10, "paging does not end"
        response = await get(node, url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].split(";")[0] == ACTIVITY_JSON
        page = response.json()
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == top["id"]
        pages.append(page)
        url = page.get("next")
    return top, pages


def _max_id(url: str) -> int:
    (value,) = parse_qs(urlsplit(url).query)["max_id"]
    return int(value)


async def test_outbox_is_keyset_paged(node: Node) -> None:
    _, token = await node.user("alice")
    for i in range(25):
        response = await node.post_outbox("alice", token, {"type": "Note", "content": f"note {i}"})
        assert response.status_code == 201, response.text
    # Neither follows nor likes are listed in the outbox.
    await node.user("bob")
    follow = await node.post_outbox(
        "alice", token, {"type": "Follow", "object": f"{BASE}/users/bob"}
    )
    assert follow.status_code == 201

    top, pages = await _pages(node, "/users/alice/outbox")
    assert top["type"] == "OrderedCollection"
    assert top["id"] == f"{BASE}/users/alice/outbox"
    assert top["totalItems"] == 25
    assert top["first"] == f"{BASE}/users/alice/outbox?page=true"
    assert [len(p["orderedItems"]) for p in pages] == [20, 5]
    assert "next" not in pages[1]
    assert pages[0]["next"].startswith(f"{BASE}/users/alice/outbox?page=true&max_id=")
    contents = [item["object"]["content"] for p in pages for item in p["orderedItems"]]
    assert contents == [f"<p>note {i}</p>" for i in reversed(range(25))]  # newest first
    assert all(item["type"] == "Create" for p in pages for item in p["orderedItems"])
    assert all("@context" not in item for p in pages for item in p["orderedItems"])

    # A note posted after page 1 was read does not shift page 2 (keyset, not offset).
    await node.post_outbox("alice", token, {"type": "Note", "content": "late"})
    again = (await get(node, pages[0]["next"])).json()
    assert again["orderedItems"] == pages[1]["orderedItems"]


async def test_outbox_hides_deleted_notes(node: Node) -> None:
    _, token = await node.user("alice")
    kept = await node.post_outbox("alice", token, {"type": "Note", "content": "keep"})
    gone = await node.post_outbox("alice", token, {"type": "Note", "content": "gone"})
    deleted = await node.post_outbox(
        "alice", token, {"type": "Delete", "object": gone.json()["object"]["id"]}
    )
    assert deleted.status_code == 201, deleted.text
    top, pages = await _pages(node, "/users/alice/outbox")
    assert top["totalItems"] == 1
    assert [i["id"] for p in pages for i in p["orderedItems"]] == [kept.json()["id"]]


async def test_bad_page_cursor_is_400(node: Node) -> None:
    await node.user("alice")
    for path in ("/users/alice/outbox", "/users/alice/followers", "/users/alice/following"):
        response = await get(node, f"{path}?page=true&max_id=abc")
        assert response.status_code == 400
        assert "max_id" in response.json()["error"]


@pytest.mark.parametrize("cursor", ["99999999999999999999999", "%C2%B2"])
async def test_out_of_range_page_cursor_is_400(node: Node, cursor: str) -> None:
    await node.user("alice")
    response = await get(node, f"/users/alice/outbox?page=true&max_id={cursor}")
    assert response.status_code == 400


async def test_followers_and_following_are_keyset_paged(node: Node) -> None:
    alice, alice_token = await node.user("alice")
    people = []
    for i in range(25):
        actor, token = await node.user(f"maker{i}")
        people.append(actor)
        followed = await node.post_outbox(
            f"maker{i}", token, {"type": "Follow", "object": alice.uri}
        )
        assert followed.status_code == 201, followed.text
        follows = await node.post_outbox(
            "alice", alice_token, {"type": "Follow", "object": actor.uri}
        )
        assert follows.status_code == 201, follows.text

    for name in ("followers", "following"):
        top, pages = await _pages(node, f"/users/alice/{name}")
        assert top["type"] == "OrderedCollection"
        assert top["id"] == f"{BASE}/users/alice/{name}"
        assert top["totalItems"] == 25
        assert [len(p["orderedItems"]) for p in pages] == [20, 5]
        items = [uri for p in pages for uri in p["orderedItems"]]
        assert items == [p.uri for p in reversed(people)]  # newest first, each once
        assert _max_id(pages[0]["next"]) > 0
        assert "next" not in pages[1]

    # Each follower's own collections see the other side.
    top = (await get(node, "/users/maker0/following")).json()
    assert top["totalItems"] == 1
    first = (await get(node, top["first"])).json()
    assert first["orderedItems"] == [alice.uri]


async def test_collections_of_unknown_users_are_404(node: Node) -> None:
    for path in ("/users/nobody/outbox", "/users/nobody/followers", "/users/nobody/following"):
        response = await get(node, path)
        assert response.status_code == 404
        assert "nobody" in response.json()["error"]


async def test_public_note_document(node: Node) -> None:
    _, token = await node.user("alice")
    posted = await node.post_outbox("alice", token, {"type": "Note", "content": "hi"})
    note_uri = posted.json()["object"]["id"]
    response = await get(node, urlsplit(note_uri).path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == ACTIVITY_JSON
    doc = response.json()
    assert doc["id"] == note_uri and doc["type"] == "Note"
    assert doc["attributedTo"] == f"{BASE}/users/alice"
    assert doc["replies"] == f"{note_uri}/replies"


async def test_discovery_answers_json_errors(node: Node) -> None:
    response = await get(node, "/notes/does-not-exist")
    assert response.status_code == 404
    assert isinstance(response.json()["error"], str)
    async with node.client() as client:
        response = await client.get("/.well-known/webfinger?resource=acct:x@disc.test")
    assert isinstance(response, httpx.Response) and response.status_code == 404
