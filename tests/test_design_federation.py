"""Designs across three real instances: publish, follow, fork, refuse, comment, download.

a.test, b.test and c.test are real apps with their own databases, connected by the
in-memory network: every request between them is really signed, verified and processed,
and `settle` runs their inbox and delivery workers. People act through the JSON API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from federation.keys import load_rsa_private_pem
from federation.signatures import sign_cavage
from federation.vocab import DESIGN_CONTEXT, PUBLIC
from inbox.models import InboxItem
from objects.design_models import PROJECT_ACTOR_TYPE, DesignVersion, Fork, Project, VersionFile
from objects.models import Note
from outbox.models import Delivery, OutboxActivity
from tests.support import Node, bearer, call, count, get, settle

# Each story runs with files on the local disk and in an S3-compatible server (moto_server).
pytestmark = pytest.mark.parametrize("file_store", ["local", "s3"], indirect=True)
ACTIVITY_JSON = "application/activity+json"
STL = b"solid gear\n  facet normal 0 0 1\n  endfacet\nendsolid gear\n"


def tiny_png() -> bytes:
    """A valid 1x1 PNG (one opaque orange pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x88\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = tiny_png()


# --- the JSON API -------------------------------------------------------------------------


async def api_post(node: Node, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return await call(node, "POST", path, token, json=body)


async def new_project(node: Node, token: str, slug: str) -> dict[str, Any]:
    response = await api_post(
        node, token, "/api/v1/designs", {"slug": slug, "name": slug.title(), "summary": "Gears"}
    )
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["id"] == f"https://{node.domain}/users/{slug}"
    return project


async def publish(node: Node, token: str, slug: str, licence: str) -> dict[str, Any]:
    files = [
        ("files", ("gearbox.stl", STL, "model/stl")),
        ("previews", ("gearbox.png", PNG, "image/png")),
    ]
    async with node.client() as client:
        response = await client.post(
            f"/api/v1/designs/{slug}/versions",
            data={
                "label": "1.0",
                "name": "Gearbox 1.0",
                "summary": "A small planetary gearbox",
                "description": "Print it in *PETG*.",
                "tags": "gears, printing",
                "licence": licence,
            },
            files=files,
            headers=bearer(token),
        )
    assert response.status_code == 201, response.text
    version = response.json()
    assert version["licence"] == licence
    return version


async def activity_json(node: Node, url: str) -> dict[str, Any]:
    async with node.client(headers={"Accept": ACTIVITY_JSON}) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def version_row(node: Node, uri: str) -> DesignVersion | None:
    async with node.instance.sessions() as session:
        return await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))


# --- the whole story ----------------------------------------------------------------------


async def test_a_design_travels_is_forked_commented_and_downloaded(nodes: Any) -> None:
    a, b, c = await nodes("a.test"), await nodes("b.test"), await nodes("c.test")
    alice, alice_token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    await c.user("carol")

    # 1. Alice creates a project; 2. Bob follows it by handle and is accepted at once.
    project = await new_project(a, alice_token, "gearbox")
    follow = await api_post(b, bob_token, "/api/v1/follows", {"target": "@gearbox@a.test"})
    assert follow.status_code == 202, follow.text
    assert follow.json()["following"] == project["id"]
    await settle(a, b, c)
    async with b.instance.sessions() as session:
        state = await session.scalar(select(Follow.state).where(Follow.follower_id == bob.id))
    assert state == FOLLOW_ACCEPTED

    # 1. ...and publishes a CC-BY-SA-4.0 version with an STL file and a PNG preview.
    version = await publish(a, alice_token, "gearbox", "CC-BY-SA-4.0")
    version_uri = version["id"]
    assert version_uri == f"{project['id']}/versions/1"
    by_name = {file["filename"]: file for file in version["files"]}
    assert set(by_name) == {"gearbox.stl", "gearbox.png"}
    stl, png = by_name["gearbox.stl"], by_name["gearbox.png"]
    assert stl["sha256"] == hashlib.sha256(STL).hexdigest() and stl["size"] == len(STL)
    assert png["sha256"] == hashlib.sha256(PNG).hexdigest() and png["preview"] is True
    assert stl["media_type"] == "model/stl" and stl["preview"] is False
    assert stl["url"] == f"https://a.test/files/{stl['sha256']}/gearbox.stl"
    assert stl["cid"].startswith("b")

    # 2. The Create reaches Bob's instance through the follow.
    await settle(a, b, c)
    copy = await version_row(b, version_uri)
    assert copy is not None and not copy.local
    assert copy.licence_text == "CC-BY-SA-4.0"
    assert alice.uri in copy.authors["authors"]
    async with b.instance.sessions() as session:
        files = list(
            await session.scalars(
                select(VersionFile)
                .where(VersionFile.version_id == copy.id)
                .order_by(VersionFile.position)
            )
        )
    assert {(f.filename, f.remote_url, f.sha256, f.preview) for f in files} == {
        ("gearbox.stl", stl["url"], stl["sha256"], False),
        ("gearbox.png", png["url"], png["sha256"], True),
    }
    assert files[0].preview, "preview images come first"
    assert await count(c, DesignVersion) == 0, "c.test follows nobody"

    # 3. Bob asks whether he may fork it under CC-BY-4.0 (no), then forks under CC-BY-SA-4.0.
    check = await api_post(
        b,
        bob_token,
        "/api/v1/forks",
        {"upstream": version_uri, "licence": "CC-BY-4.0", "dry_run": True},
    )
    assert check.status_code == 200, check.text
    assert check.json()["allowed"] is False and "CC-BY-SA-4.0" in check.json()["reason"]

    forked = await api_post(
        b,
        bob_token,
        "/api/v1/forks",
        {
            "upstream": version_uri,
            "slug": "bobgear",
            "name": "Bob's gearbox",
            "licence": "CC-BY-SA-4.0",
        },
    )
    assert forked.status_code == 201, forked.text
    fork_project, fork_version = forked.json()["project"], forked.json()["version"]
    fork_uri = fork_version["id"]
    assert fork_project["id"] == "https://b.test/users/bobgear"
    assert fork_version["upstream"] == version_uri
    assert fork_version["licence"] == "CC-BY-SA-4.0"
    assert alice.uri in fork_version["credits"]
    assert {f["sha256"] for f in fork_version["files"]} == {stl["sha256"], png["sha256"]}
    assert {f["url"] for f in fork_version["files"]} == {stl["url"], png["url"]}
    await settle(a, b, c)

    forks = await activity_json(a, "/users/gearbox/forks")
    assert forks["type"] == "OrderedCollection" and forks["totalItems"] == 1
    forks_page = await activity_json(a, "/users/gearbox/forks?page=true")
    assert forks_page["orderedItems"] == [fork_uri]
    on_a = await version_row(a, fork_uri)
    assert on_a is not None and on_a.upstream_uri == version_uri
    assert alice.uri in on_a.credits["credits"]

    lineage_b = await get(b, "/api/v1/lineage", version=fork_uri)
    assert lineage_b.status_code == 200, lineage_b.text
    assert lineage_b.json()["ancestors"] == [fork_uri, version_uri]
    assert lineage_b.json()["unknown_upstream"] is None
    lineage_a = await get(a, "/api/v1/lineage", version=version_uri)
    assert lineage_a.status_code == 200, lineage_a.text
    tree = lineage_a.json()["descendants"]
    assert tree["project"] == project["id"]
    assert [(n["project"], n["version"]) for n in tree["forks"]] == [(fork_project["id"], fork_uri)]
    assert lineage_a.json()["ancestors"] == [version_uri]
    fork_on_a = await get(a, "/api/v1/lineage", version=fork_uri)
    assert fork_on_a.json()["ancestors"] == [fork_uri, version_uri]

    # 4. A fork under CC-BY-4.0 is refused with the reason, and nothing is stored.
    actors_before = await count(b, Actor)
    versions_before = await count(b, DesignVersion)
    outbox_before = await count(b, OutboxActivity)
    refused = await api_post(
        b,
        bob_token,
        "/api/v1/forks",
        {
            "upstream": version_uri,
            "slug": "bobgear2",
            "name": "Bob's BY fork",
            "licence": "CC-BY-4.0",
        },
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert "CC-BY-SA-4.0" in error and "CC-BY-4.0" in error
    assert await count(b, Actor) == actors_before
    assert await count(b, Actor, Actor.username == "bobgear2") == 0
    assert await count(b, DesignVersion) == versions_before
    assert await count(b, OutboxActivity) == outbox_before
    assert await count(b, Project) == 2  # Alice's (remote) and Bob's fork

    # 6. Alice comments on her version; Bob replies to her comment from his instance.
    comment = await api_post(
        a,
        alice_token,
        "/api/v1/comments",
        {"in_reply_to": version_uri, "content": "Print at 0.2mm"},
    )
    assert comment.status_code == 201, comment.text
    comment_uri = comment.json()["id"]
    assert comment.json()["licence"] == "NOASSERTION"
    await settle(a, b, c)
    reply = await api_post(
        b, bob_token, "/api/v1/comments", {"in_reply_to": comment_uri, "content": "Works, thanks!"}
    )
    assert reply.status_code == 201, reply.text
    reply_uri = reply.json()["id"]
    await settle(a, b, c)

    async with a.instance.sessions() as session:
        threaded = await session.scalar(select(Note).where(Note.uri == reply_uri))
        parent = await session.scalar(select(Note).where(Note.uri == comment_uri))
        original = await session.scalar(
            select(DesignVersion).where(DesignVersion.uri == version_uri)
        )
    assert threaded is not None and threaded.in_reply_to == comment_uri
    assert "Works, thanks!" in threaded.content and threaded.license == "NOASSERTION"
    assert parent is not None and parent.replies_count == 1
    assert original is not None and original.replies_count == 1
    replies_path = "/users/gearbox/versions/1/replies"
    assert (await activity_json(a, replies_path))["totalItems"] == 1
    assert (await activity_json(a, f"{replies_path}?page=true"))["orderedItems"] == [comment_uri]
    on_b = await get(b, "/api/v1/versions", uri=version_uri)
    assert on_b.status_code == 200, on_b.text
    assert on_b.json()["licence"] == "CC-BY-SA-4.0"

    # A comment carries no licence: it can never be forked.
    versions_before = await count(b, DesignVersion)
    for parent in (comment_uri, reply_uri):
        no_fork = await api_post(
            b,
            bob_token,
            "/api/v1/forks",
            {"upstream": parent, "slug": "commentfork", "licence": "CC-BY-SA-4.0"},
        )
        assert no_fork.status_code in (404, 422), no_fork.text
        assert isinstance(no_fork.json()["error"], str)
    assert await count(b, Actor, Actor.username == "commentfork") == 0
    assert await count(b, DesignVersion) == versions_before

    # 7. The file downloads from the URL Bob's copy links to, and matches its digest.
    for filename, body, media_type in (
        ("gearbox.stl", STL, "model/stl"),
        ("gearbox.png", PNG, "image/png"),
    ):
        row = next(f for f in files if f.filename == filename)
        assert row.remote_url is not None
        async with b.client() as client:
            download = await client.get(row.remote_url)
        assert download.status_code == 200, download.text
        assert download.content == body
        digest = hashlib.sha256(download.content).digest()
        assert digest.hex() == row.sha256
        encoded = base64.b64encode(digest).decode()
        assert download.headers["etag"] == f'"{row.sha256}"'
        assert download.headers["digest"] == f"sha-256={encoded}"
        assert download.headers["repr-digest"] == f"sha-256=:{encoded}:"
        assert filename in download.headers["content-disposition"]
        assert download.headers["content-type"].startswith(media_type)


# --- the Peer Production License and companies ----------------------------------------------


async def test_a_company_may_not_fork_a_ppl_design_here_or_over_federation(nodes: Any) -> None:
    a, b, c = await nodes("a.test"), await nodes("b.test"), await nodes("c.test")
    _, alice_token = await a.user("alice")
    await b.user("bob")
    corp, corp_token = await c.user("corp", "company")
    await new_project(a, alice_token, "commons")
    upstream = await publish(a, alice_token, "commons", "PPL")
    upstream_uri = upstream["id"]

    # Locally on c.test: refused with the reason, and no fork project appears.
    check = await api_post(
        c,
        corp_token,
        "/api/v1/forks",
        {"upstream": upstream_uri, "licence": "PPL", "dry_run": True},
    )
    assert check.status_code == 200, check.text
    assert check.json()["allowed"] is False and "company" in check.json()["reason"]
    refused = await api_post(
        c,
        corp_token,
        "/api/v1/forks",
        {"upstream": upstream_uri, "slug": "corpfork", "name": "Corp fork", "licence": "PPL"},
    )
    assert refused.status_code == 422, refused.text
    assert "PPL" in refused.json()["error"] and "company" in refused.json()["error"]
    assert await count(c, Actor, Actor.username == "corpfork") == 0
    assert await count(c, DesignVersion, DesignVersion.local.is_(True)) == 0
    assert await count(c, Fork) == 0

    # Over federation: a project of the company signs a forged fork and sends it to a.test.
    await new_project(c, corp_token, "corpgear")
    async with c.instance.sessions() as session:
        project_actor = await session.scalar(select(Actor).where(Actor.username == "corpgear"))
    assert project_actor is not None and project_actor.type == PROJECT_ACTOR_TYPE
    assert project_actor.entity_kind == "company" and corp.entity_kind == "company"
    assert project_actor.private_key_pem is not None
    key = load_rsa_private_pem(project_actor.private_key_pem)
    page_uri = f"{project_actor.uri}/versions/1"
    page = {
        "id": page_uri,
        "type": "Page",
        "name": "Corp gearbox",
        "content": "<p>Ours now.</p>",
        "url": page_uri,
        "attributedTo": [project_actor.uri, corp.uri],
        "context": project_actor.uri,
        "audience": project_actor.uri,
        "versionLabel": "1",
        "license": "https://spdx.org/licenses/PPL.html",
        "licenseExpression": "PPL",
        "forkedFrom": upstream_uri,
        "credits": [upstream["authors"][0]],
        "attachment": [],
        "to": [PUBLIC],
        "cc": [project_actor.followers_url],
    }
    create = {
        "@context": DESIGN_CONTEXT,
        "id": f"https://c.test/activities/{hashlib.sha256(page_uri.encode()).hexdigest()[:32]}",
        "type": "Create",
        "actor": project_actor.uri,
        "object": page,
        "to": [PUBLIC],
        "cc": [project_actor.followers_url, "https://a.test/users/commons"],
    }
    raw = json.dumps(create).encode()
    headers = {"Content-Type": ACTIVITY_JSON}
    headers.update(
        sign_cavage("POST", "https://a.test/inbox", headers, raw, project_actor.public_key_id, key)
    )
    async with a.client() as client:
        response = await client.post("/inbox", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    reason = response.json()["error"]
    assert "PPL" in reason and "company" in reason and upstream_uri in reason

    assert await version_row(a, page_uri) is None
    assert await count(a, InboxItem, InboxItem.activity_uri == create["id"]) == 0
    assert await count(a, Fork) == 0
    async with a.instance.sessions() as session:
        instance_actor = await session.scalar(
            select(Actor).where(Actor.uri == a.instance.urls.instance_actor)
        )
        assert instance_actor is not None
        rejects = list(
            await session.scalars(select(OutboxActivity).where(OutboxActivity.type == "Reject"))
        )
        assert len(rejects) == 1
        reject = rejects[0]
        inboxes = set(
            await session.scalars(
                select(Delivery.inbox_url).where(Delivery.activity_id == reject.id)
            )
        )
    assert reject.actor_id == instance_actor.id
    assert reject.payload["actor"] == instance_actor.uri
    assert reason in reject.payload["summary"]
    assert reject.payload["object"]["id"] == create["id"]
    # To c.test: the project's own inbox or c.test's shared inbox.
    assert inboxes and inboxes <= {project_actor.inbox, "https://c.test/inbox"}, inboxes

    await settle(a, b, c)
    async with c.instance.sessions() as session:
        received = await session.scalar(
            select(InboxItem).where(InboxItem.activity_uri == reject.uri)
        )
    assert received is not None and received.type == "Reject"
    assert received.actor_uri == instance_actor.uri
    assert reason in received.payload["summary"]
    assert await version_row(a, page_uri) is None
    assert await count(a, Project) == 1  # only Alice's commons
