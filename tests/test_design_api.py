"""The JSON API for designs, on real instances: projects, versions and files, search,
forks and their licence checks, lineage, comments and follows. Refusals change nothing."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import BaseRoute, Mount, Route

from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, Actor, Follow
from federation.settings import Settings
from objects.design_models import DesignVersion, Fork, Project
from objects.models import Note
from outbox.models import OutboxActivity
from tests.support import Network, Node, call, count, settle
from web.api.designs import routes as api_routes
from web.api.edits import routes as api_edit_routes
from web.app import create_app

STL = b"solid lamp\n  facet normal 0 0 1\n  endfacet\nendsolid lamp\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 40


# Helpers


async def new_project(node: Node, token: str, slug: str, **fields: str) -> dict[str, Any]:
    response = await call(node, "POST", "/api/v1/designs", token, json={"slug": slug, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def publish(
    node: Node,
    token: str,
    slug: str,
    data: dict[str, Any] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> httpx.Response:
    files = files if files is not None else [("files", ("lamp.stl", STL, "model/stl"))]
    return await call(
        node, "POST", f"/api/v1/designs/{slug}/versions", token, data=data or {}, files=files
    )


async def version(node: Node, token: str, slug: str, licence: str, **data: Any) -> dict[str, Any]:
    response = await publish(node, token, slug, {"licence": licence, **data})
    assert response.status_code == 201, response.text
    return response.json()


def blob_files(node: Node) -> list[Path]:
    """Every stored blob and staged temp file of the node."""
    root = node.instance.blobs.root
    return [Path(d) / name for d, _, names in os.walk(root) for name in names]


def cid_of(data: bytes) -> str:
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


@pytest.fixture
async def limited_node(
    new_database: Callable[[], Awaitable[str]], network: Network, tmp_path: Path
) -> AsyncIterator[Node]:
    """An instance that takes files of at most 1000 bytes."""
    settings = Settings(
        domain="small.test",
        scheme="https",
        data_dir=tmp_path / "small",
        database_url=await new_database(),
        max_file_bytes=1000,
        max_version_bytes=1500,
    )
    app = create_app(settings, transport=network, run_workers=False)
    async with app.router.lifespan_context(app):
        network.add("small.test", app)
        yield Node("small.test", app, network)


# Projects


async def test_create_project(nodes):
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    project = await new_project(a, token, "lamp", name="Desk lamp", summary="A lamp")
    assert project["id"] == "https://a.test/users/lamp"
    assert project["handle"] == "lamp@a.test" and project["name"] == "Desk lamp"
    assert project["maintainers"] == [alice.uri] and project["local"] is True
    assert project["latest_version"] is None and project["versions_count"] == 0
    assert project["followers"] == "https://a.test/users/lamp/followers"

    for slug in ("lamp", "alice"):
        taken = await call(a, "POST", "/api/v1/designs", token, json={"slug": slug})
        assert taken.status_code == 409 and "taken" in taken.json()["error"]
    anonymous = await call(a, "POST", "/api/v1/designs", json={"slug": "chair"})
    assert anonymous.status_code == 401 and "Bearer" in anonymous.json()["error"]
    forged = await call(a, "POST", "/api/v1/designs", "nope", json={"slug": "chair"})
    assert forged.status_code == 401
    garbage = await call(a, "POST", "/api/v1/designs", token, content=b"{")
    assert garbage.status_code == 400 and "JSON" in garbage.json()["error"]
    not_object = await call(a, "POST", "/api/v1/designs", token, json=["chair"])
    assert not_object.status_code == 400
    no_slug = await call(a, "POST", "/api/v1/designs", token, json={"name": "Chair"})
    assert no_slug.status_code == 400 and "slug" in no_slug.json()["error"]
    bad_slug = await call(a, "POST", "/api/v1/designs", token, json={"slug": "Chair!"})
    assert bad_slug.status_code == 422
    assert await count(a, Project) == 1

    shown = await call(a, "GET", "/api/v1/designs/lamp")
    assert shown.status_code == 200 and shown.json()["versions"] == []
    assert (await call(a, "GET", "/api/v1/designs/alice")).status_code == 404
    assert (await call(a, "GET", "/api/v1/designs/nothing")).status_code == 404


# Versions and files


async def test_publish_version_with_files_and_preview(nodes):
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    await new_project(a, token, "lamp", name="Desk lamp")
    response = await publish(
        a,
        token,
        "lamp",
        {
            "label": "v1.0",
            "name": "Desk lamp",
            "summary": "Bends",
            "description": "# Build\n\nPrint it <script>x</script>",
            "tags": ["lighting, Desk", "#lamp"],
            "licence": "cc-by-sa-4.0",
        },
        [
            ("files", ("lamp.stl", STL, "model/stl")),
            ("previews", ("lamp.png", PNG, "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["id"] == "https://a.test/users/lamp/versions/1" == response.headers["location"]
    assert doc["project"] == "https://a.test/users/lamp" and doc["number"] == 1
    assert doc["label"] == "v1.0" and doc["licence"] == "CC-BY-SA-4.0"
    assert doc["license_urls"] == ["https://spdx.org/licenses/CC-BY-SA-4.0.html"]
    assert doc["tags"] == ["lighting", "desk", "lamp"] and doc["authors"] == [alice.uri]
    # Headings start at <h2>: the page's <h1> is the design's name.
    assert "<h2>Build</h2>" in doc["content"] and "<script>" not in doc["content"]
    assert doc["source"].startswith("# Build") and doc["replies_count"] == 0
    assert doc["commercial_use"] and doc["who_may_fork"]
    preview, design = doc["files"]  # the preview comes first
    assert preview["preview"] is True and preview["filename"] == "lamp.png"
    assert design["preview"] is False and design["media_type"] == "model/stl"
    for file, data in ((preview, PNG), (design, STL)):
        digest = hashlib.sha256(data).hexdigest()
        assert file["sha256"] == digest and file["size"] == len(data)
        assert file["cid"] == cid_of(data)
        assert file["url"] == f"https://a.test/files/{digest}/{file['filename']}"
        stored = a.instance.blobs.path_for(digest)
        assert stored.read_bytes() == data
        assert stored.parent.parent.parent == a.instance.settings.data_dir / "files" / "sha256"

    project = (await call(a, "GET", "/api/v1/designs/lamp")).json()
    assert project["latest_version"] == doc["id"] and project["versions_count"] == 1
    assert project["versions"] == [doc] and project["tags"] == ["lighting", "desk", "lamp"]
    fetched = await call(a, "GET", "/api/v1/versions", params={"uri": doc["id"]})
    assert fetched.json() == doc
    by_uri = await call(a, "GET", "/api/v1/designs/by-uri", params={"uri": project["id"]})
    assert by_uri.json() == project
    async with a.instance.sessions() as session:
        create = await session.scalar(
            select(OutboxActivity).where(OutboxActivity.object_uri == doc["id"])
        )
    assert create is not None and create.type == "Create"


async def test_versions_get_the_default_licence_and_come_newest_first(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "lamp")
    first = await version(a, token, "lamp", "MIT")
    second = await publish(a, token, "lamp")  # no licence: the instance default
    assert second.status_code == 201 and second.json()["licence"] == "PPL"
    assert second.json()["number"] == 2 and first["number"] == 1
    newest_first = (await call(a, "GET", "/api/v1/designs/lamp")).json()["versions"]
    assert [v["number"] for v in newest_first] == [2, 1]
    assert (await call(a, "GET", "/api/v1/versions", params={"uri": "x"})).status_code == 404
    assert (await call(a, "GET", "/api/v1/versions")).status_code == 400


async def test_over_limit_upload_stores_nothing(limited_node):
    node = limited_node
    _, token = await node.user("alice")
    await new_project(node, token, "lamp")
    big = await publish(
        node, token, "lamp", {"licence": "MIT"}, [("files", ("big.stl", b"x" * 1001, "model/stl"))]
    )
    assert big.status_code == 413 and "big.stl" in big.json()["error"]
    several = await publish(
        node,
        token,
        "lamp",
        {"licence": "MIT"},
        [("files", (f"part{i}.stl", bytes([i]) * 900, "model/stl")) for i in range(2)],
    )
    assert several.status_code == 413 and "upload" in several.json()["error"]
    assert await count(node, DesignVersion) == 0 and blob_files(node) == []
    ok = await publish(node, token, "lamp", {"licence": "MIT"})
    assert ok.status_code == 201


async def test_refused_licence_stores_nothing(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "lamp")
    cases = [
        ({"licence": "CC-BY-SA-4.0 OR"}, 422, "not a valid SPDX"),
        ({"licence": "Made-Up-1.0"}, 422, "unknown licence id"),
        ({"licence": "LicenseRef-Mine"}, 422, "not registered"),
        ({"licence": "NOASSERTION"}, 422, "NOASSERTION"),
        ({"licence_hardware": "CERN-OHL-S-2.0"}, 422, "documentation has no licence"),
        ({"licence": "MIT", "licence_software": "MIT"}, 422, "not both"),
    ]
    for data, status, words in cases:
        response = await publish(a, token, "lamp", data)
        assert response.status_code == status, (data, response.text)
        assert words in response.json()["error"], response.text
    not_image = await publish(
        a, token, "lamp", {"licence": "MIT"}, [("previews", ("x.svg", b"<svg/>", "image/svg+xml"))]
    )
    assert not_image.status_code == 415
    stray = await publish(a, token, "lamp", {}, [("other", ("x.stl", STL, "model/stl"))])
    assert stray.status_code == 400
    not_multipart = await call(a, "POST", "/api/v1/designs/lamp/versions", token, json={})
    assert not_multipart.status_code == 415
    assert await count(a, DesignVersion) == 0 and await count(a, OutboxActivity) == 0
    assert not (a.instance.settings.data_dir / "files" / "sha256").exists()
    assert blob_files(a) == []

    parts = {"licence_hardware": "CERN-OHL-S-2.0"} | {
        f"licence_{c}": "CC-BY-SA-4.0" for c in ("documentation", "software")
    }
    components = await publish(a, token, "lamp", parts)
    assert components.status_code == 201
    assert components.json()["licence"] == {
        "hardware": "CERN-OHL-S-2.0",
        "documentation": "CC-BY-SA-4.0",
        "software": "CC-BY-SA-4.0",
    }


async def test_only_maintainers_publish(nodes):
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await a.user("bob")
    await new_project(a, alice_token, "lamp")
    other = await publish(a, bob_token, "lamp", {"licence": "MIT"})
    assert other.status_code == 403 and "maintainers" in other.json()["error"]
    assert (await publish(a, "", "lamp", {"licence": "MIT"})).status_code == 401
    assert (await publish(a, bob_token, "nothing", {"licence": "MIT"})).status_code == 404
    assert (await publish(a, bob_token, "alice", {"licence": "MIT"})).status_code == 404
    assert await count(a, DesignVersion) == 0 and blob_files(a) == []


# Search


async def test_list_and_search_with_keyset_paging(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "lamp", name="Desk lamp", summary="Light for 100% of desks")
    await version(a, token, "lamp", "CC-BY-SA-4.0", tags="lighting,desk")
    await new_project(a, token, "chair", name="Chair")
    await version(a, token, "chair", "CERN-OHL-S-2.0", name="Folding seat", tags="furniture")
    await new_project(a, token, "shelf", name="Shelf")
    await version(a, token, "shelf", "MIT", tags="furniture,desk")

    async def slugs(**params: Any) -> list[str]:
        response = await call(a, "GET", "/api/v1/designs", params=params)
        assert response.status_code == 200, response.text
        return [p["handle"].split("@")[0] for p in response.json()]

    assert await slugs() == ["shelf", "chair", "lamp"]
    assert await slugs(q="LAMP") == ["lamp"]
    assert await slugs(q="seat") == ["chair"]  # a version's name
    assert await slugs(q="100%") == ["lamp"] and await slugs(q="_") == []
    assert await slugs(tag="desk") == ["shelf", "lamp"]
    assert await slugs(tag="#Furniture") == ["shelf", "chair"]
    assert await slugs(tag="tags") == []
    assert await slugs(licence="cc-by-sa-4.0") == ["lamp"]
    assert await slugs(licence="CERN-OHL-S-2.0") == ["chair"]
    assert await slugs(instance="a.test", tag="furniture", q="shelf") == ["shelf"]
    assert await slugs(instance="b.test") == []
    bad = await call(a, "GET", "/api/v1/designs", params={"licence": "nonsense-9"})
    assert bad.status_code == 422 and "unknown licence" in bad.json()["error"]
    assert (await call(a, "GET", "/api/v1/designs", params={"max_id": "x"})).status_code == 400

    first = await call(a, "GET", "/api/v1/designs", params={"limit": 2})
    assert [p["name"] for p in first.json()] == ["Shelf", "Chair"]
    next_url = first.headers["link"].split(";")[0].strip("<>")
    assert next_url.startswith("https://a.test/api/v1/designs?") and "max_id=" in next_url
    second = await call(a, "GET", next_url)
    assert [p["name"] for p in second.json()] == ["Desk lamp"]
    assert "link" not in second.headers
    many = await call(a, "GET", "/api/v1/designs", params={"limit": 1000})
    assert len(many.json()) == 3


# Forks and lineage


async def test_fork_on_the_same_instance(nodes):
    a = await nodes("a.test")
    alice, alice_token = await a.user("alice")
    _, bob_token = await a.user("bob")
    await new_project(a, alice_token, "lamp", name="Desk lamp")
    upstream = await version(a, alice_token, "lamp", "CC-BY-SA-4.0")

    async def fork(token: str, **body: Any) -> httpx.Response:
        return await call(
            a, "POST", "/api/v1/forks", token, json={"upstream": upstream["id"], **body}
        )

    before = [await count(a, model) for model in (Project, DesignVersion, OutboxActivity, Fork)]
    refused = await fork(bob_token, slug="lamp2", licence="CC-BY-4.0")
    assert refused.status_code == 422
    assert "CC-BY-SA-4.0" in refused.json()["error"] and "CC-BY-4.0" in refused.json()["error"]
    no = await fork(bob_token, licence="CC-BY-4.0", dry_run=True)
    assert no.status_code == 200 and no.json()["allowed"] is False
    assert "CC-BY-4.0" in no.json()["reason"] and no.json()["licence"] == "CC-BY-4.0"
    yes = await fork(bob_token, licence="cc-by-sa-4.0", dry_run=True)
    assert yes.json() == {"allowed": True, "reason": None, "licence": "CC-BY-SA-4.0"}
    assert (await fork(bob_token, slug="lamp2", licence="CC-BY-SA-4.0 OR")).status_code == 422
    assert (await fork(bob_token, slug="lamp2", dry_run="yes")).status_code == 400
    assert (await fork("", slug="lamp2")).status_code == 401
    taken = await fork(bob_token, slug="alice", licence="CC-BY-SA-4.0")
    assert taken.status_code == 409
    after = [await count(a, model) for model in (Project, DesignVersion, OutboxActivity, Fork)]
    assert after == before

    created = await fork(bob_token, slug="lamp2", name="Brighter lamp", licence="CC-BY-SA-4.0")
    assert created.status_code == 201, created.text
    project, forked = created.json()["project"], created.json()["version"]
    assert project["handle"] == "lamp2@a.test" and project["upstream"] == upstream["id"]
    assert forked["upstream"] == upstream["id"] and forked["licence"] == "CC-BY-SA-4.0"
    assert alice.uri in forked["credits"] and forked["name"] == "Brighter lamp"
    assert [f["sha256"] for f in forked["files"]] == [f["sha256"] for f in upstream["files"]]
    lamp = (await call(a, "GET", "/api/v1/designs/lamp")).json()
    assert lamp["forks_count"] == 1
    missing = await call(
        a,
        "POST",
        "/api/v1/forks",
        bob_token,
        json={"upstream": "https://a.test/users/x/versions/1", "slug": "x"},
    )
    assert missing.status_code == 404


async def test_a_company_may_not_fork_a_ppl_design(nodes):
    a = await nodes("a.test")
    _, alice_token = await a.user("alice", "cooperative")
    _, acme_token = await a.user("acme", "company")
    await new_project(a, alice_token, "lamp")
    upstream = (await publish(a, alice_token, "lamp")).json()  # the instance default: PPL
    assert upstream["licence"] == "PPL"
    body = {"upstream": upstream["id"], "slug": "acmelamp"}
    refused = await call(a, "POST", "/api/v1/forks", acme_token, json=body)
    assert refused.status_code == 422 and "company" in refused.json()["error"]
    check = await call(a, "POST", "/api/v1/forks", acme_token, json=body | {"dry_run": True})
    assert check.json()["allowed"] is False and "company" in check.json()["reason"]
    assert await count(a, Project) == 1
    coop = await call(a, "POST", "/api/v1/forks", alice_token, json=body | {"slug": "lamp2"})
    assert coop.status_code == 201 and coop.json()["version"]["licence"] == "PPL"


async def test_lineage_of_a_fork_of_a_fork(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "lamp")
    root = await version(a, token, "lamp", "CC-BY-4.0")
    middle = await call(
        a,
        "POST",
        "/api/v1/forks",
        token,
        json={"upstream": root["id"], "slug": "lamp2", "licence": "CC-BY-SA-4.0"},
    )
    middle_version = middle.json()["version"]["id"]
    leaf = await call(
        a, "POST", "/api/v1/forks", token, json={"upstream": middle_version, "slug": "lamp3"}
    )
    assert leaf.status_code == 201 and leaf.json()["version"]["licence"] == "CC-BY-SA-4.0"
    leaf_version = leaf.json()["version"]["id"]

    of_leaf = (await call(a, "GET", "/api/v1/lineage", params={"version": leaf_version})).json()
    assert of_leaf["ancestors"] == [leaf_version, middle_version, root["id"]]
    assert of_leaf["unknown_upstream"] is None
    assert of_leaf["descendants"] == {
        "project": "https://a.test/users/lamp3",
        "version": None,
        "forks": [],
    }
    of_root = (await call(a, "GET", "/api/v1/lineage", params={"version": root["id"]})).json()
    assert of_root["ancestors"] == [root["id"]]
    assert of_root["descendants"] == {
        "project": "https://a.test/users/lamp",
        "version": None,
        "forks": [
            {
                "project": "https://a.test/users/lamp2",
                "version": middle_version,
                "forks": [
                    {"project": "https://a.test/users/lamp3", "version": leaf_version, "forks": []}
                ],
            }
        ],
    }
    assert (await call(a, "GET", "/api/v1/lineage")).status_code == 400
    unknown = await call(a, "GET", "/api/v1/lineage", params={"version": "https://a.test/x"})
    assert unknown.status_code == 404


# Comments and follows


async def test_comment_on_a_version(nodes):
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    bob, bob_token = await a.user("bob")
    await new_project(a, alice_token, "lamp")
    doc = await version(a, alice_token, "lamp", "MIT")
    body = {"in_reply_to": doc["id"], "content": "Lovely <b>lamp</b>", "summary": "glare"}
    response = await call(a, "POST", "/api/v1/comments", bob_token, json=body)
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["in_reply_to"] == doc["id"] and note["author"] == bob.uri
    assert note["content"] == "<p>Lovely &lt;b&gt;lamp&lt;/b&gt;</p>"
    assert note["summary"] == "glare" and note["sensitive"] is True
    assert note["licence"] == "NOASSERTION"
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == [bob.followers_url, "https://a.test/users/lamp"]
    fetched = (await call(a, "GET", "/api/v1/versions", params={"uri": doc["id"]})).json()
    assert fetched["replies_count"] == 1
    async with a.instance.sessions() as session:
        kinds = list(await session.scalars(select(OutboxActivity.type).order_by(OutboxActivity.id)))
    assert kinds[-2:] == ["Create", "Announce"]  # the project passes the comment on

    reply = await call(
        a,
        "POST",
        "/api/v1/comments",
        alice_token,
        json={"in_reply_to": note["id"], "content": "Thanks"},
    )
    assert reply.status_code == 201 and bob.uri in reply.json()["cc"]
    async with a.instance.sessions() as session:
        parent = await session.scalar(select(Note).where(Note.uri == note["id"]))
    assert parent is not None and parent.replies_count == 1
    again = (await call(a, "GET", "/api/v1/versions", params={"uri": doc["id"]})).json()
    assert again["replies_count"] == 1

    notes = await count(a, Note)
    for bad, status in (
        ({"in_reply_to": doc["id"], "content": "  "}, 400),
        ({"in_reply_to": doc["id"], "content": "x" * 20_001}, 422),
        ({"in_reply_to": doc["id"]}, 400),
        ({"in_reply_to": "https://a.test/notes/none", "content": "x"}, 404),
    ):
        refused = await call(a, "POST", "/api/v1/comments", bob_token, json=bad)
        assert refused.status_code == status, refused.text
    assert await count(a, Note) == notes


async def test_follow_a_project_on_another_instance(nodes):
    a = await nodes("a.test")
    b = await nodes("b.test")
    _, alice_token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    await new_project(a, alice_token, "lamp")

    response = await call(b, "POST", "/api/v1/follows", bob_token, json={"target": "@lamp@a.test"})
    assert response.status_code == 202, response.text
    assert response.json() == {"following": "https://a.test/users/lamp", "state": FOLLOW_PENDING}
    await settle(a, b)
    async with b.instance.sessions() as session:
        state = await session.scalar(
            select(Follow.state)
            .join(Actor, Actor.id == Follow.followee_id)
            .where(Follow.follower_id == bob.id, Actor.uri == "https://a.test/users/lamp")
        )
    assert state == FOLLOW_ACCEPTED
    async with a.instance.sessions() as session:
        followers = await session.scalar(
            select(func.count())
            .select_from(Follow)
            .join(Actor, Actor.id == Follow.followee_id)
            .where(Actor.uri == "https://a.test/users/lamp", Follow.state == FOLLOW_ACCEPTED)
        )
    assert followers == 1

    local = await call(a, "POST", "/api/v1/follows", alice_token, json={"target": "lamp@a.test"})
    assert local.json() == {"following": "https://a.test/users/lamp", "state": FOLLOW_ACCEPTED}
    by_url = await call(
        b, "POST", "/api/v1/follows", bob_token, json={"target": "https://a.test/users/alice"}
    )
    assert by_url.status_code == 202 and by_url.json()["state"] == FOLLOW_PENDING
    for target, status in (("not a handle", 422), ("@bob@b.test", 422)):
        refused = await call(b, "POST", "/api/v1/follows", bob_token, json={"target": target})
        assert refused.status_code == status, refused.text


async def test_comment_on_a_remote_version_reaches_its_project(nodes):
    a = await nodes("a.test")
    b = await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await new_project(a, alice_token, "lamp")
    doc = await version(a, alice_token, "lamp", "CC-BY-SA-4.0")
    body = {"in_reply_to": doc["id"], "content": "Printed it!"}
    response = await call(b, "POST", "/api/v1/comments", bob_token, json=body)
    assert response.status_code == 201, response.text
    known = (await call(b, "GET", "/api/v1/designs", params={"instance": "a.test"})).json()
    assert [p["id"] for p in known] == ["https://a.test/users/lamp"] and not known[0]["local"]
    on_b = (await call(b, "GET", "/api/v1/versions", params={"uri": doc["id"]})).json()
    assert on_b["replies_count"] == 1 and on_b["source"] is None

    # Alice answers before Bob's comment arrives: a.test fetches it, and counts it once.
    answer = {"in_reply_to": response.json()["id"], "content": "Thanks!"}
    reply = await call(a, "POST", "/api/v1/comments", alice_token, json=answer)
    assert reply.status_code == 201, reply.text
    assert "https://b.test/users/bob" in reply.json()["cc"]
    for _ in range(2):
        fetched = (await call(a, "GET", "/api/v1/versions", params={"uri": doc["id"]})).json()
        assert fetched["replies_count"] == 1
        await settle(a, b)
    async with b.instance.sessions() as session:
        parent = await session.scalar(select(Note).where(Note.uri == response.json()["id"]))
    assert parent is not None and parent.replies_count == 1


# The description


async def test_openapi_describes_every_route(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "lamp")
    shown = await version(a, token, "lamp", "MIT")
    project = (await call(a, "GET", "/api/v1/designs/lamp")).json()
    response = await call(a, "GET", "/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"] == "3.1.0" and spec["servers"] == [{"url": "https://a.test"}]
    for route in [*api_routes, *api_edit_routes]:
        methods = {m.lower() for m in route.methods or ()} - {"head"}
        assert methods <= set(spec["paths"][route.path]), route.path
    described = _api_routes(a.app.routes)
    assert len(described) > len(api_routes) + len(api_edit_routes)
    for path, methods in described.items():
        assert path in spec["paths"], f"{path} is not in an OpenAPI fragment"
        missing = methods - set(spec["paths"][path])
        assert not missing, f"{sorted(missing)} {path} is not in an OpenAPI fragment"
        named = set(re.findall(r"\{(\w+)\}", path))
        for operation in spec["paths"][path].values():
            given = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert given == named, f"{path}: path parameters {given} are not {named}"
    schemas = spec["components"]["schemas"]
    refs = {
        value.removeprefix("#/components/schemas/")
        for value in _walk(spec)
        if isinstance(value, str) and value.startswith("#/components/schemas/")
    }
    assert refs <= set(schemas)
    assert set(schemas["Version"]["properties"]) == set(shown)
    assert set(schemas["File"]["properties"]) == set(shown["files"][0])
    assert set(schemas["Project"]["properties"]) | {"versions"} == set(project)


def _api_routes(routes: list[BaseRoute], prefix: str = "") -> dict[str, set[str]]:
    """Every JSON API route of the app (all under /api/), as path -> lower-case methods, with
    Starlette's convertors dropped ({id:int} -> {id}) as OpenAPI writes paths."""
    found: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, Mount):
            for path, methods in _api_routes(route.routes, prefix + route.path).items():
                found.setdefault(path, set()).update(methods)
        elif isinstance(route, Route) and (prefix + route.path).startswith("/api/"):
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", prefix + route.path)
            methods = {m.lower() for m in route.methods or ("GET",)} - {"head"}
            found.setdefault(path, set()).update(methods)
    return found


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [item for v in value.values() for item in _walk(v)]
    if isinstance(value, list):
        return [item for v in value for item in _walk(v)]
    return [value]


async def test_fork_of_a_remote_version(nodes):
    a = await nodes("a.test")
    b = await nodes("b.test")
    alice, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await new_project(a, alice_token, "lamp")
    upstream = await version(a, alice_token, "lamp", "CC-BY-SA-4.0")
    body = {"upstream": upstream["id"], "slug": "lamp", "licence": "CC-BY-4.0"}
    check = await call(b, "POST", "/api/v1/forks", bob_token, json=body | {"dry_run": True})
    assert check.status_code == 200 and check.json()["allowed"] is False
    assert await count(b, DesignVersion) == 0 and await count(b, Project) == 0
    refused = await call(b, "POST", "/api/v1/forks", bob_token, json=body)
    assert refused.status_code == 422 and await count(b, Project) == 1  # the known upstream

    created = await call(b, "POST", "/api/v1/forks", bob_token, json=body | {"licence": None})
    assert created.status_code == 201, created.text
    forked = created.json()["version"]
    assert forked["id"] == "https://b.test/users/lamp/versions/1"
    assert forked["licence"] == "CC-BY-SA-4.0" and alice.uri in forked["credits"]
    await settle(a, b)
    lamp = (await call(a, "GET", "/api/v1/designs/lamp")).json()
    assert lamp["forks_count"] == 1
    tree = (await call(a, "GET", "/api/v1/lineage", params={"version": upstream["id"]})).json()
    assert tree["descendants"]["forks"] == [
        {"project": "https://b.test/users/lamp", "version": forked["id"], "forks": []}
    ]
    on_b = (await call(b, "GET", "/api/v1/lineage", params={"version": forked["id"]})).json()
    assert on_b["ancestors"] == [forked["id"], upstream["id"]]
