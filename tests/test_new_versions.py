"""Iterating on a design: "Publish a new version" for maintainers, a form that starts from
the latest version (texts, licence, files to keep, leave out or replace), and a changelog
that is shown and federated."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from sqlalchemy import select

from objects.design_models import DesignVersion
from tests.support import ACTIVITY_JSON, Node, call, settle
from tests.test_design_api import PNG, new_project
from tests.test_design_federation import api_post
from tests.test_web_publish import alert_of, publish_form
from tests.web_support import TETRAHEDRON, browser_and_token, text_of

OBJ = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
DESCRIPTION = "# Lamp\n\nPrint **both** parts."


async def first_version(node: Node, token: str) -> dict[str, Any]:
    await new_project(node, token, "lamp", name="Lamp")
    response = await call(
        node,
        "POST",
        "/api/v1/designs/lamp/versions",
        token,
        data={
            "name": "Desk lamp",
            "label": "1.0",
            "description": DESCRIPTION,
            "tags": "lamp, light",
            "licence": "CERN-OHL-S-2.0",
        },
        files=[
            ("files", ("lamp.stl", TETRAHEDRON, "model/stl")),
            ("files", ("shade.obj", OBJ, "model/obj")),
            ("previews", ("lamp.png", PNG, "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    doc: dict[str, Any] = response.json()
    return doc


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_maintainers_get_a_form_that_starts_from_the_latest_version(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, token = await browser_and_token(node, "alice")
    bob, _ = await browser_and_token(node, "bob")
    await first_version(node, token)

    for path in ("/users/lamp", "/users/lamp/versions/1"):
        mine = await alice.get(path, headers={"Accept": "text/html"})
        assert 'id="new-version"' in mine.text and 'href="/users/lamp/publish"' in mine.text
        theirs = await bob.get(path, headers={"Accept": "text/html"})
        assert 'id="new-version"' not in theirs.text
        visitor = await node.client().get(path, headers={"Accept": "text/html"})
        assert 'id="new-version"' not in visitor.text

    form = await alice.get("/users/lamp/publish")
    page = html.unescape(form.text)
    assert DESCRIPTION in page and 'value="lamp, light"' in page and 'value="Desk lamp"' in page
    assert re.search(r'name="licence" id="[^"]+" value="CERN-OHL-S-2.0" checked', form.text)
    for data in (TETRAHEDRON, OBJ, PNG):
        assert f'name="keep" value="{digest(data)}" checked' in form.text
    assert 'name="changelog"' in form.text
    refused = await bob.get("/users/lamp/publish")
    assert refused.status_code == 403


async def test_a_new_version_keeps_leaves_out_and_replaces_files(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, token = await browser_and_token(node, "alice")
    await first_version(node, token)
    new_obj = OBJ + b"v 0 0 1\nf 1 2 4\n"
    response = await publish_form(
        alice,
        "/users/lamp/publish",
        files=[("files", ("shade.obj", new_obj, "model/obj"))],  # replaces the kept one
        keep=[digest(TETRAHEDRON), digest(OBJ)],  # the picture is left out
        name="Desk lamp",
        label="1.1",
        description=DESCRIPTION,
        tags="lamp, light",
        licence="CERN-OHL-S-2.0",
        changelog="A taller shade.",
    )
    assert response.status_code == 303, text_of(response.text)
    assert response.headers["location"] == "/users/lamp/versions/2"
    doc = (await call(node, "GET", "/api/v1/designs/lamp")).json()["versions"][0]
    files = {file["filename"]: file["sha256"] for file in doc["files"]}
    assert files == {"lamp.stl": digest(TETRAHEDRON), "shade.obj": digest(new_obj)}
    assert doc["tags"] == ["lamp", "light"] and doc["licence"] == "CERN-OHL-S-2.0"
    assert doc["changelog"] == "A taller shade."
    page = await alice.get("/users/lamp/versions/2", headers={"Accept": "text/html"})
    assert "What changed in 1.1" in page.text and "A taller shade." in page.text
    # Tag filters find the new version's project, as before.
    home = await node.client().get("/?tag=light", headers={"Accept": "text/html"})
    assert "/users/lamp/versions/2" in home.text

    # Keeping a file that is not the latest version's is refused, and nothing is stored.
    foreign = await publish_form(
        alice,
        "/users/lamp/publish",
        files=[("files", ("", b"", "application/octet-stream"))],
        keep=[digest(PNG + b"x")],
        licence="CERN-OHL-S-2.0",
    )
    assert foreign.status_code == 422 and "not a file of the latest version" in alert_of(
        foreign.text
    )
    nothing_kept = await publish_form(
        alice,
        "/users/lamp/publish",
        files=[("files", ("", b"", "application/octet-stream"))],
        licence="CERN-OHL-S-2.0",
    )
    assert nothing_kept.status_code == 422
    assert "at least one file" in alert_of(nothing_kept.text)
    async with node.instance.sessions() as session:
        assert len(list(await session.scalars(select(DesignVersion)))) == 2


async def test_the_changelog_is_federated(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await first_version(a, token)
    follow = await api_post(b, bob_token, "/api/v1/follows", {"target": "@lamp@a.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    second = await call(
        a,
        "POST",
        "/api/v1/designs/lamp/versions",
        token,
        data={"label": "1.1", "changelog": "A taller shade.", "keep": digest(TETRAHEDRON)},
        files=[("files", ("shade.obj", OBJ, "model/obj"))],
    )
    assert second.status_code == 201, second.text
    uri = second.json()["id"]
    assert {f["filename"] for f in second.json()["files"]} == {"lamp.stl", "shade.obj"}
    document = (await call(a, "GET", uri, headers={"Accept": ACTIVITY_JSON})).json()
    assert document["changelog"] == "A taller shade."
    [terms] = [part for part in document["@context"] if isinstance(part, dict)]
    assert {"changelog": "od:changelog"}.items() <= terms.items()
    await settle(a, b)
    async with b.instance.sessions() as session:
        stored = await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))
    assert stored is not None and stored.changelog == "A taller shade."
    shown = await call(b, "GET", "/api/v1/versions", params={"uri": uri})
    assert shown.json()["changelog"] == "A taller shade."
