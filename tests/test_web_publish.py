"""Publishing from the browser: the project form with files, the preview, forks with their
live licence check, and comments. Each form must give what the JSON API gives, and a
refused form must change nothing."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select
from starlette.requests import Request

from objects.design_models import DesignVersion, Project
from objects.models import Note
from tests.support import Node, call, count, settle
from tests.test_design_api import PNG, STL, blob_files
from tests.web_support import browser_and_token, csrf_for, hidden_fields, text_of
from web.form_guard import COOKIE, FIELD, issue

FILES = [
    ("files", ("lamp.stl", STL, "model/stl")),
    ("previews", ("lamp.png", PNG, "image/png")),
]


# Helpers


def form_field(node: Node, client: httpx.AsyncClient, purpose: str) -> str:
    """A CSRF field for `purpose`, issued by the site's own form guard for this browser
    (its form nonce and its session, both of which the field is bound to)."""
    cookies = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
    headers = [(b"cookie", cookies.encode())] if cookies else []
    nonce, value = issue(Request({"type": "http", "app": node.app, "headers": headers}), purpose)
    client.cookies.set(COOKIE, nonce, domain=node.domain)
    return value


async def publish_form(
    client: httpx.AsyncClient, page: str = "/publish", files: Any = None, **fields: str
) -> httpx.Response:
    hidden = await csrf_for(client, page, page)
    return await client.post(page, data={**hidden, **fields}, files=files or FILES)


async def published(node: Node, client: httpx.AsyncClient, slug: str, licence: str) -> str:
    """Publish a design through the form; its version URI."""
    response = await publish_form(client, name=slug, slug=slug, licence=licence, tags="lamp")
    assert response.status_code == 303, text_of(response.text)
    return f"https://{node.domain}{response.headers['location']}"


async def version_doc(node: Node, uri: str) -> dict[str, Any]:
    response = await call(node, "GET", "/api/v1/versions", params={"uri": uri})
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def alert_of(html: str) -> str:
    start = html.index('role="alert">') + len('role="alert">')
    return text_of(html[start : html.index("</p>", start)])


# Publishing


async def test_publish_form_stores_the_project_its_version_and_files(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    response = await publish_form(
        alice,
        name="Desk lamp",
        summary="A small lamp",
        description="# Lamp\n\nPrint **both** parts.",
        tags="lamp, light",
        licence="other",
        licence_other="CERN-OHL-S-2.0",
    )
    assert response.status_code == 303, text_of(response.text)
    assert response.headers["location"] == "/users/desk_lamp/versions/1"
    assert (await alice.get("/users/desk_lamp/versions/1")).status_code == 200

    doc = await version_doc(node, "https://a.test/users/desk_lamp/versions/1")
    assert doc["licence"] == "CERN-OHL-S-2.0"
    assert doc["tags"] == ["lamp", "light"]
    assert "<strong>both</strong>" in doc["content"]
    by_name = {file["filename"]: file for file in doc["files"]}
    assert by_name["lamp.stl"]["sha256"] == hashlib.sha256(STL).hexdigest()
    assert by_name["lamp.png"]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert by_name["lamp.png"]["preview"] and not by_name["lamp.stl"]["preview"]
    for data in (STL, PNG):
        assert node.instance.blobs.exists(hashlib.sha256(data).hexdigest())

    # The API, given the same input, stores the same version.
    _, token = await node.user("bob")
    created = await call(node, "POST", "/api/v1/designs", token, json={"slug": "lamp_api"})
    assert created.status_code == 201, created.text
    fields = {"name": "Desk lamp", "licence": "CERN-OHL-S-2.0", "tags": "lamp, light"}
    api = await call(
        node, "POST", "/api/v1/designs/lamp_api/versions", token, data=fields, files=FILES
    )
    assert api.status_code == 201, api.text
    keys = ("filename", "media_type", "size", "sha256", "preview")

    def files(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(file[key] for key in keys) for file in doc["files"]]

    assert files(api.json()) == files(doc)
    assert api.json()["licence"] == doc["licence"] and api.json()["tags"] == doc["tags"]


async def test_publish_form_defaults_to_the_instance_licence(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    page = await alice.get("/publish")
    assert 'value="PPL" checked' in page.text
    for words in ("An individual", "A non-profit", "A cooperative", "A company", "CERN-OHL-W-2.0"):
        assert words in page.text
    uri = await published(node, alice, "lamp", "PPL")
    assert (await version_doc(node, uri))["licence"] == "PPL"


async def test_refused_publish_forms_change_nothing(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    await alice.get("/publish")  # the form cookie, but no field
    no_field = await alice.post("/publish", data={"name": "Lamp", "licence": "PPL"}, files=FILES)
    assert no_field.status_code == 403
    assert "reload the page" in alert_of(no_field.text)

    bad = await publish_form(alice, name="Lamp", licence="other", licence_other="NOT-A-LICENCE")
    assert bad.status_code == 422
    assert "unknown licence id NOT-A-LICENCE" in alert_of(bad.text)
    assert 'value="Lamp"' in bad.text and 'value="NOT-A-LICENCE"' in bad.text

    no_expression = await publish_form(alice, name="Lamp", licence="other")
    assert no_expression.status_code == 422
    assert "typed none" in alert_of(no_expression.text)

    bad_part = await publish_form(
        alice, files=[("previews", ("lamp.stl", STL, "model/stl"))], name="Lamp", licence="PPL"
    )
    assert bad_part.status_code == 415
    assert "previews must be PNG" in alert_of(bad_part.text)

    assert await count(node, Project) == 0
    assert blob_files(node) == []


async def test_signed_out_browsers_are_sent_to_sign_in(nodes: Any) -> None:
    node = await nodes("a.test")
    async with node.client(follow_redirects=False) as anonymous:
        page = await anonymous.get("/publish")
        assert page.status_code == 303
        assert page.headers["location"] == "/sign-in?next=%2Fpublish"
        posted = await anonymous.post("/publish", data={"name": "x"}, files=FILES)
        assert posted.status_code == 303
    assert await count(node, Project) == 0


async def test_only_maintainers_publish_new_versions(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    bob, _ = await browser_and_token(node, "bob")
    await published(node, alice, "lamp", "PPL")

    page = await bob.get("/users/lamp/publish")
    assert page.status_code == 403
    assert "only the maintainers of" in alert_of(page.text)
    hidden = await csrf_for(alice, "/users/lamp/publish", "/users/lamp/publish")
    await bob.get("/publish")
    stolen = await bob.post("/users/lamp/publish", data={**hidden, "licence": "PPL"}, files=FILES)
    assert stolen.status_code == 403
    assert await count(node, DesignVersion) == 1

    second = await publish_form(
        alice, "/users/lamp/publish", name="Lamp", label="1.1", licence="MIT"
    )
    assert second.status_code == 303, text_of(second.text)
    assert second.headers["location"] == "/users/lamp/versions/2"
    assert (await version_doc(node, "https://a.test/users/lamp/versions/2"))["label"] == "1.1"


async def test_preview_is_sanitised(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    hidden = await csrf_for(alice, "/publish", "/publish")
    markdown = "**bold** <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>"
    fragment = await alice.post(
        "/preview", data={**hidden, "markdown": markdown}, headers={"X-Requested-With": "fetch"}
    )
    assert fragment.status_code == 200
    assert fragment.headers["content-type"].startswith("text/html")
    assert "<strong>bold</strong>" in fragment.text
    assert "<script" not in fragment.text and "<img" not in fragment.text
    assert "<html" not in fragment.text

    # The Preview button without JavaScript sends the whole publishing form.
    page = await alice.post("/preview", data={**hidden, "description": markdown}, files=FILES)
    assert page.status_code == 200
    assert "<html" in page.text and "<strong>bold</strong>" in page.text
    assert "<script>alert" not in page.text
    assert blob_files(node) == []

    refused = await alice.post("/preview", data={"markdown": "x"})
    assert refused.status_code == 403


# Forks


async def test_fork_check_gives_the_api_verdict(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    acme, acme_token = await browser_and_token(node, "acme", "company")
    share_alike = await published(node, alice, "shelf", "CC-BY-SA-4.0")
    peer = await published(node, alice, "chair", "PPL")

    async def check(uri: str, licence: str) -> dict[str, Any]:
        response = await acme.get("/fork/check", params={"from": uri, "licence": licence})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def api_reason(uri: str, licence: str) -> str:
        body = {"upstream": uri, "licence": licence, "dry_run": True}
        response = await call(node, "POST", "/api/v1/forks", acme_token, json=body)
        assert response.status_code == 200, response.text
        reason: str = response.json()["reason"]
        return reason

    assert (await check(share_alike, "GPL-3.0-or-later"))["ok"] is True
    relicensed = await check(share_alike, "MIT")
    assert relicensed == {"ok": False, "reason": await api_reason(share_alike, "MIT")}
    assert "CC-BY-SA-4.0 requires forks to stay CC-BY-SA-4.0" in relicensed["reason"]
    company = await check(peer, "PPL")
    assert company == {"ok": False, "reason": await api_reason(peer, "PPL")}
    assert "does not allow a company" in company["reason"]
    malformed = await check(share_alike, "MIT AND (")
    assert malformed["ok"] is False and "not a valid SPDX licence expression" in malformed["reason"]


async def test_fork_form_refuses_an_incompatible_licence_then_forks(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    bob, _ = await browser_and_token(node, "bob")
    upstream = await published(node, alice, "shelf", "CC-BY-SA-4.0")
    page_url = f"/fork?from={quote(upstream, safe='')}"
    page = await bob.get(page_url)
    assert page.status_code == 200
    assert 'value="CC-BY-SA-4.0" checked' in page.text
    assert 'id="fork-check" role="status"' in page.text
    hidden = await csrf_for(bob, page_url, "/fork")

    refused = await bob.post("/fork", data={**hidden, "slug": "myshelf", "licence": "MIT"})
    assert refused.status_code == 422
    assert "CC-BY-SA-4.0 requires forks to stay CC-BY-SA-4.0" in alert_of(refused.text)
    assert 'value="myshelf"' in refused.text
    assert await count(node, Project) == 1

    forked = await bob.post(
        "/fork", data={**hidden, "slug": "myshelf", "licence": "GPL-3.0-or-later"}
    )
    assert forked.status_code == 303, text_of(forked.text)
    assert forked.headers["location"] == "/users/myshelf/versions/1"
    doc = await version_doc(node, "https://a.test/users/myshelf/versions/1")
    assert doc["upstream"] == upstream and doc["licence"] == "GPL-3.0-or-later"
    async with node.instance.sessions() as session:
        project = await session.scalar(select(Project).where(Project.upstream_uri == upstream))
    assert project is not None


async def test_forking_a_remote_version_from_the_form(nodes: Any) -> None:
    a = await nodes("a.test")
    b = await nodes("b.test")
    alice, _ = await browser_and_token(a, "alice")
    upstream = await published(a, alice, "lamp", "PPL")
    bob, _ = await browser_and_token(b, "bob", "cooperative")
    page_url = f"/fork?from={quote(upstream, safe='')}"
    page = await bob.get(page_url)
    assert page.status_code == 200 and "lamp" in page.text
    assert (await bob.get("/fork/check", params={"from": upstream, "licence": "PPL"})).json() == {
        "ok": True,
        "reason": "compatible",
    }
    hidden = await csrf_for(bob, page_url, "/fork")
    forked = await bob.post("/fork", data={**hidden, "slug": "coop_lamp", "licence": "PPL"})
    assert forked.status_code == 303, text_of(forked.text)
    await settle(a, b)
    doc = await version_doc(b, "https://b.test/users/coop_lamp/versions/1")
    assert doc["upstream"] == upstream


# Comments


async def test_comments_and_threaded_replies(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    bob, _ = await browser_and_token(node, "bob")
    version = await published(node, alice, "lamp", "PPL")
    page = "/users/lamp/versions/1"

    first = await bob.post(
        "/comments",
        data={
            FIELD: form_field(node, bob, "comment"),
            "in_reply_to": version,
            "return_to": page,
            "content": "Printed it, works well.",
        },
    )
    assert first.status_code == 303, text_of(first.text)
    async with node.instance.sessions() as session:
        comment = await session.scalar(select(Note).where(Note.in_reply_to == version))
    assert comment is not None
    assert first.headers["location"] == f"{page}#comment-{comment.id}"

    reply = await alice.post(
        "/comments",
        data={
            FIELD: form_field(node, alice, "comment"),
            "in_reply_to": comment.uri,
            "return_to": page,
            "content": "Thanks!",
        },
    )
    assert reply.status_code == 303, text_of(reply.text)
    async with node.instance.sessions() as session:
        answer = await session.scalar(select(Note).where(Note.in_reply_to == comment.uri))
    assert answer is not None and "Thanks!" in answer.content
    assert reply.headers["location"] == f"{page}#comment-{answer.id}"


async def test_refused_comments_change_nothing(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    version = await published(node, alice, "lamp", "PPL")
    fields = {"in_reply_to": version, "content": "Hello"}

    evil = await alice.post(
        "/comments",
        data={
            **fields,
            FIELD: form_field(node, alice, "comment"),
            "return_to": "https://evil.example/",
        },
    )
    assert evil.status_code == 400
    assert "must be a path on this site" in alert_of(evil.text)
    for sneaky in ("//evil.example/x", "/\\evil.example"):
        data = {**fields, FIELD: form_field(node, alice, "comment"), "return_to": sneaky}
        assert (await alice.post("/comments", data=data)).status_code == 400

    empty = await alice.post(
        "/comments",
        data={
            **fields,
            FIELD: form_field(node, alice, "comment"),
            "return_to": "/users/lamp/versions/1",
            "content": "  ",
        },
    )
    assert empty.status_code == 422
    assert "a comment needs some content" in alert_of(empty.text)
    # The page shown again holds a working comment form.
    hidden = hidden_fields(empty.text, "/comments")
    again = await alice.post(
        "/comments",
        data={**hidden, "content": "Now with words"},
    )
    assert again.status_code == 303

    no_field = await alice.post("/comments", data={**fields, "return_to": "/"})
    assert no_field.status_code == 403

    async with node.client(follow_redirects=False) as anonymous:
        signed_out = await anonymous.post(
            "/comments", data={**fields, "return_to": "/users/lamp/versions/1"}
        )
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/sign-in?next=%2Fusers%2Flamp%2Fversions%2F1"
    assert await count(node, Note) == 1


async def test_comment_form_invites_signed_out_people_to_sign_in(nodes: Any) -> None:
    node = await nodes("a.test")
    template = node.app.state.templates.get_template("comment_form.html")
    html = template.render(
        viewer=None,
        comment_target="https://a.test/users/lamp/versions/1",
        return_to="/users/lamp?page=2&x=1",
    )
    assert 'href="/sign-in?next=/users/lamp%3Fpage%3D2%26x%3D1"' in html
    assert "Sign in to comment" in html and "<form" not in html
