"""The design version page and the lineage picture, as a browser gets them.

Real instances (a.test, b.test) publish, fork and comment through the JSON API and the
inbox; the pages are then read as HTML: the licence in plain words, the files, the credit
chain, the threaded comments (remote HTML inert), and the family tree as SVG.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from sqlalchemy import insert, select, update

from actors.models import Actor
from federation.keys import load_rsa_private_pem
from federation.signatures import sign_cavage
from federation.vocab import PUBLIC
from objects.design_models import DesignVersion, VersionFile
from objects.lineage import ForkNode
from objects.models import Note
from tests.support import Node, bearer, settle
from tests.test_design_federation import (
    ACTIVITY_JSON,
    PNG,
    api_post,
    new_project,
    publish,
)
from tests.web_support import TETRAHEDRON, html_page, statements_of, text_of
from web.pages.lineage_svg import (
    MAX_NODES,
    Lineage,
    LineageNode,
    _first_nodes,
    lineage_svg,
    outline,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_HTML = (
    '<p>Nice<script>alert(1)</script><img src="x" onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a></p>'
)


def rights_of(html: str) -> dict[str, dict[str, str]]:
    """{entity: {use|fork|sell: yes|no|ask}} from the page's plain-words box."""
    box = re.search(r'<ul class="rights"[^>]*>(.*?)</ul>', html, re.S)
    assert box is not None, "no rights box on the page"
    found: dict[str, dict[str, str]] = {}
    for entity, body in re.findall(
        r'<li class="\w+" id="rights-(\w+)"[^>]*>(.*?)</li>', box[1], re.S
    ):
        found[entity] = dict(
            (right, verdict)
            for verdict, right in re.findall(r'<p class="(\w+)" data-right="(\w+)">', body)
        )
    return found


class CommentTree(HTMLParser):
    """Which comment each comment is nested in (None: top level), from the page's markup."""

    def __init__(self) -> None:
        super().__init__()
        self.parent_of: dict[str, str | None] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "li":
            return
        found = dict(attrs)
        is_comment = "comment" in (found.get("class") or "").split()
        own = found.get("id") if is_comment else None
        if own is not None:
            enclosing = [item for item in self._open if item is not None]
            self.parent_of[own] = enclosing[-1] if enclosing else None
        self._open.append(own)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._open:
            self._open.pop()


async def note_id(node: Node, uri: str) -> int:
    async with node.instance.sessions() as session:
        found = await session.scalar(select(Note.id).where(Note.uri == uri))
    assert found is not None, uri
    return found


# --- the page of one version ----------------------------------------------------------------


async def publish_stl(node: Node, token: str, slug: str) -> dict[str, Any]:
    """A PPL version with a drawable STL (a space in its name) and a PNG preview."""
    files = [
        ("files", ("gear box.stl", TETRAHEDRON, "model/stl")),
        ("previews", ("gearbox.png", PNG, "image/png")),
    ]
    fields = {
        "label": "1.0",
        "name": "Gearbox 1.0",
        "description": "Print it in *PETG*.",
        "tags": "gears, printing",
        "licence": "PPL",
    }
    async with node.client() as client:
        response = await client.post(
            f"/api/v1/designs/{slug}/versions", data=fields, files=files, headers=bearer(token)
        )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_version_page_shows_preview_ppl_rights_files_and_viewer(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "gearbox")
    version = await publish_stl(a, token, "gearbox")
    stl = next(f for f in version["files"] if f["filename"] == "gear box.stl")
    png = next(f for f in version["files"] if f["filename"] == "gearbox.png")

    html = await html_page(a, "/users/gearbox/versions/1")
    text = text_of(html)
    assert "Gearbox 1.0" in text and "@gearbox@a.test" in text and "@alice@a.test" in text
    assert '<span class="badge" title="Peer Production License (PPL)">PPL</span>' in html

    # The preview comes before the licence and the files.
    viewer = (
        f'<div class="viewer" id="viewer" data-model="/files/{stl["sha256"]}/gear%20box.stl"'
        ' data-format="stl"></div>'
    )
    assert viewer in html
    assert html.index(viewer) < html.index('class="rights"') < html.index('class="files"')
    assert re.search(
        r'<script type="module" src="/static/viewer\.[0-9a-f]{12}\.js"></script>', html
    )
    assert f'src="https://a.test/files/{png["sha256"]}/gearbox.png"' in html
    assert 'class="thumbnail"' not in html, "no thumbnail before the worker made it"

    rights = rights_of(html)
    assert set(rights) == {"individual", "nonprofit", "cooperative", "company"}
    assert rights["company"] == {"use": "no", "fork": "no", "sell": "no"}
    assert rights["cooperative"] == {"use": "yes", "fork": "yes", "sell": "yes"}
    assert rights["individual"] == {"use": "yes", "fork": "yes", "sell": "no"}
    assert rights["nonprofit"]["fork"] == "yes" and rights["nonprofit"]["sell"] == "no"
    assert "does not allow a company" in text

    # The files table: size in words, type and a working download link; the SHA-256 and
    # CID folded under "verify" below it.
    table = re.search(r'<table class="files">(.*?)</table>', html, re.S)
    assert table is not None and "model/stl" in table[1]
    verify = re.search(r'<details class="verify" id="verify">(.*?)</details>', html, re.S)
    assert verify is not None and stl["sha256"] in verify[1] and stl["cid"] in verify[1]
    assert f"{len(TETRAHEDRON)} bytes" in table[1]
    links = re.findall(r'<a href="([^"]+)" download>', table[1])
    assert len(links) == 2
    async with a.client() as client:
        downloads = {link: (await client.get(link)) for link in links}
    assert {r.content for r in downloads.values()} == {TETRAHEDRON, PNG}

    assert "<em>PETG</em>" in html
    assert '<a href="/?tag=gears">#gears</a>' in html
    fork_href = "/fork?from=" + quote(version["id"], safe="")
    assert f'<a id="fork" class="button" href="{fork_href}">' in html
    assert '<a id="lineage" href="/users/gearbox/lineage">0 forks' in html

    # Once the worker drew it, the thumbnail follows the viewer.
    while await a.instance.thumbnail_worker.run_once():
        pass
    html = await html_page(a, "/users/gearbox/versions/1")
    thumbnail = f'<img class="thumbnail" src="/thumbnails/{stl["sha256"]}.png"'
    assert html.index(viewer) < html.index(thumbnail)


async def test_rights_under_cc_by_let_everyone_do_everything(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "open")
    await publish(a, token, "open", "CC-BY-4.0")
    html = await html_page(a, "/users/open/versions/1")
    assert '<span class="badge"' in html and ">CC-BY-4.0</span>" in html
    everything = {"use": "yes", "fork": "yes", "sell": "yes"}
    assert rights_of(html) == {kind: everything for kind in rights_of(html)}
    assert len(rights_of(html)) == 4


async def test_unknown_pages_are_404_and_a_deleted_version_410(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "gearbox")
    version_uri = (await publish(a, token, "gearbox", "PPL"))["id"]
    async with a.instance.sessions() as session:
        await session.execute(
            update(DesignVersion)
            .where(DesignVersion.uri == version_uri)
            .values(deleted_at=dt.datetime(2026, 3, 4, tzinfo=dt.UTC))
        )
        await session.commit()
    deleted = await html_page(a, "/users/gearbox/versions/1", status=410)
    assert "This version was deleted on 4 March 2026" in deleted
    assert 'class="files"' not in deleted and "gearbox.stl" not in deleted
    for path in ("/users/gearbox/versions/9", "/users/nobody/versions/1", "/users/x/lineage"):
        async with a.client(headers={"Accept": "text/html"}) as client:
            response = await client.get(path)
        assert response.status_code == 404, path
        assert "no" in response.text and "here" in response.text


# --- forks across instances: credit chain, upstream, forks count, lineage ------------------


async def test_fork_across_instances_has_credit_chain_and_lineage_picture(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await new_project(a, alice_token, "gearbox")
    upstream = (await publish(a, alice_token, "gearbox", "CC-BY-SA-4.0"))["id"]
    forked = await api_post(
        b,
        bob_token,
        "/api/v1/forks",
        {
            "upstream": upstream,
            "slug": "bobgear",
            "name": "Bob's gearbox",
            "licence": "CC-BY-SA-4.0",
        },
    )
    assert forked.status_code == 201, forked.text
    fork_uri = forked.json()["version"]["id"]
    await settle(a, b)

    on_b = await html_page(b, "/users/bobgear/versions/1")
    assert f'<a id="upstream" href="{upstream}">Gearbox 1.0 1.0</a>' in on_b
    chain = re.search(r'<ol class="credit-chain"[^>]*>(.*?)</ol>', on_b, re.S)
    assert chain is not None
    assert f'<a href="{upstream}">' in chain[1] and "@gearbox@a.test" in chain[1]
    assert "https://a.test/users/alice" in on_b, "the upstream's author is credited"

    assert await statements_for(b, "/users/bobgear/versions/1") <= 10, "a fork costs 3 more"

    on_a = await html_page(a, "/users/gearbox/versions/1")
    assert '<a id="lineage" href="/users/gearbox/lineage">1 fork ' in on_a
    assert "An original design" in text_of(on_a)

    # The lineage, from either end, holds both projects, each linked.
    for node, slug in ((a, "gearbox"), (b, "bobgear")):
        page = await html_page(node, f"/users/{slug}/lineage")
        figure = re.search(r'<figure class="lineage">\s*(<svg.*?</svg>)', page, re.S)
        assert figure is not None
        tree = ET.fromstring(figure[1])
        texts = [el.text for el in tree.iter(f"{SVG}text")]
        assert "Gearbox" in texts and "Bob's gearbox" in texts
        assert "@gearbox@a.test" in texts and "@bobgear@b.test" in texts
        links = {el.get("href") for el in tree.iter(f"{SVG}a")}
        assert links == {"https://a.test/users/gearbox", fork_uri}
        listed = re.search(r'<ul class="lineage-list">(.*)</ul>', page, re.S)
        assert listed is not None and "Bob&#39;s gearbox" in listed[1]
        assert '<li aria-current="page">\n    <a href="' in listed[1]

    async with a.client() as client:
        picture = await client.get("/users/gearbox/lineage.svg")
    assert picture.status_code == 200
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert picture.headers["content-security-policy"] == "default-src 'none'"
    assert picture.headers["x-content-type-options"] == "nosniff"
    tree = ET.fromstring(picture.text)
    assert tree.tag == f"{SVG}svg"
    assert len(list(tree.iter(f"{SVG}rect"))) == 2 and len(list(tree.iter(f"{SVG}path"))) == 1


async def test_hostile_project_name_is_escaped_in_the_lineage(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await new_project(a, alice_token, "gearbox")
    upstream = (await publish(a, alice_token, "gearbox", "CC-BY-4.0"))["id"]
    forked = await api_post(
        b, bob_token, "/api/v1/forks", {"upstream": upstream, "slug": "evil", "licence": "MIT"}
    )
    assert forked.status_code == 201, forked.text
    await settle(a, b)
    hostile = '</text><script>alert(1)</script>\x0b\x1b<a href="javascript:x">'
    async with a.instance.sessions() as session:  # as a hostile server's actor document
        await session.execute(
            update(Actor).where(Actor.uri == "https://b.test/users/evil").values(name=hostile)
        )
        await session.commit()

    async with a.client() as client:
        picture = (await client.get("/users/gearbox/lineage.svg")).text
    tree = ET.fromstring(picture)  # well-formed despite the name
    assert not [el for el in tree.iter() if el.tag.endswith("script")]
    titles = [el.text or "" for el in tree.iter(f"{SVG}title")]
    assert any("</text><script>alert(1)</script>" in title for title in titles)
    assert {el.get("href") for el in tree.iter(f"{SVG}a")} <= {
        "https://a.test/users/gearbox",
        forked.json()["version"]["id"],
    }
    page = await html_page(a, "/users/gearbox/lineage")
    assert "<script>alert(1)" not in page and "&lt;/text&gt;&lt;script&gt;" in page
    assert '<a href="javascript:' not in page


def test_a_deep_chain_of_forks_is_drawn_without_recursion_and_capped() -> None:
    chain = ForkNode("https://x.test/users/p0", None)
    tip = chain
    for n in range(1, MAX_NODES + 200):
        fork = ForkNode(f"https://h{n % 3}.test/users/p{n}", f"https://h{n % 3}.test/v/{n}")
        tip.forks.append(fork)
        tip = fork
    kept, left_out = _first_nodes(chain)
    assert len(kept) == MAX_NODES and left_out == 200

    root = LineageNode("u0", "p0", "@p0@x.test", "x.test", "PPL", "https://x.test/users/p0")
    node = root
    for n in range(1, MAX_NODES):
        child = LineageNode(f"u{n}", f"p{n}", f"@p{n}@h.test", "h.test", "PPL", None)
        node.forks.append(child)
        node = child
    svg = ET.fromstring(lineage_svg(Lineage(root, MAX_NODES, 200, None)))
    assert len(list(svg.iter(f"{SVG}rect"))) == MAX_NODES
    assert len(list(svg.iter(f"{SVG}a"))) == 1, "only http(s) links are drawn"
    steps = outline(root)
    assert [step for step, _ in steps].count("item") == MAX_NODES
    assert [step for step, _ in steps].count("open") == MAX_NODES - 1


# --- comments --------------------------------------------------------------------------------


async def signed_reply(b: Node, a: Node, author: Actor, in_reply_to: str, content: str) -> None:
    """Bob's server delivers a Create(Note) to a.test's inbox, signed with his key."""
    note_uri = f"https://b.test/notes/{uuid.uuid4().hex}"
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_uri}/activity",
        "type": "Create",
        "actor": author.uri,
        "to": [PUBLIC],
        "object": {
            "id": note_uri,
            "type": "Note",
            "attributedTo": author.uri,
            "inReplyTo": in_reply_to,
            "content": content,
            "to": [PUBLIC],
            "published": "2026-01-02T03:04:05Z",
        },
    }
    raw = json.dumps(create).encode()
    headers = {"Content-Type": ACTIVITY_JSON}
    assert author.private_key_pem is not None
    key = load_rsa_private_pem(author.private_key_pem)
    headers.update(
        sign_cavage("POST", "https://a.test/inbox", headers, raw, author.public_key_id, key)
    )
    async with a.client() as client:
        response = await client.post("/inbox", content=raw, headers=headers)
    assert response.status_code == 202, response.text
    await settle(a, b)


async def test_comments_are_threaded_and_remote_html_is_inert(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, alice_token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    await new_project(a, alice_token, "gearbox")
    version_uri = (await publish(a, alice_token, "gearbox", "PPL"))["id"]
    first = await api_post(
        a, alice_token, "/api/v1/comments", {"in_reply_to": version_uri, "content": "Use PETG"}
    )
    assert first.status_code == 201, first.text
    await settle(a, b)
    reply = await api_post(
        b, bob_token, "/api/v1/comments", {"in_reply_to": first.json()["id"], "content": "Done!"}
    )
    assert reply.status_code == 201, reply.text
    await settle(a, b)
    await signed_reply(b, a, bob, version_uri, HOSTILE_HTML)
    # A stored note that skipped sanitising (an older release, a restored backup): the page
    # itself must still make it inert.
    async with a.instance.sessions() as session:
        bob_on_a = await session.scalar(select(Actor).where(Actor.uri == bob.uri))
        assert bob_on_a is not None
        bob_on_a.url = "javascript:alert(4)"  # as a hostile server's actor document could say
        await session.execute(
            insert(Note).values(
                uri="https://b.test/notes/raw",
                actor_id=bob_on_a.id,
                in_reply_to=version_uri,
                content=HOSTILE_HTML,
                visibility="public",
            )
        )
        await session.commit()

    html = await html_page(a, "/users/gearbox/versions/1")
    first_id = await note_id(a, first.json()["id"])
    reply_id = await note_id(a, reply.json()["id"])
    raw_id = await note_id(a, "https://b.test/notes/raw")
    tree = CommentTree()
    tree.feed(html)
    assert tree.parent_of[f"comment-{first_id}"] is None
    assert tree.parent_of[f"comment-{reply_id}"] == f"comment-{first_id}"
    assert tree.parent_of[f"comment-{raw_id}"] is None
    assert len(tree.parent_of) == 4
    assert "Comments (4)" in html and "Use PETG" in html and "Done!" in html
    assert "@bob@b.test" in html and "@alice@a.test" in html

    comments = html[html.index('<section id="comments"') :]
    assert 'class="comments"' in comments
    for bad in ("<script>alert", "onerror", "javascript:"):
        assert bad not in comments, bad
    assert "click" in text_of(comments) and "Nice" in text_of(comments)

    # A reply link points the one comment form at that comment.
    assert f'href="?reply_to={quote(first.json()["id"], safe="/")}#comment-form"' in comments
    async with a.client(headers={"Accept": "text/html"}) as client:
        signed_out = await client.get(
            "/users/gearbox/versions/1", params={"reply_to": first.json()["id"]}
        )
    assert "Sign in to comment" in signed_out.text
    del alice


async def test_reply_form_targets_the_chosen_comment(nodes: Any) -> None:
    from tests.web_support import hidden_fields, signed_in_browser

    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "gearbox")
    version_uri = (await publish(a, token, "gearbox", "PPL"))["id"]
    first = await api_post(
        a, token, "/api/v1/comments", {"in_reply_to": version_uri, "content": "Hi"}
    )
    browser = await signed_in_browser(a, "carol")
    async with browser:
        plain = await browser.get("/users/gearbox/versions/1")
        chosen = await browser.get(
            "/users/gearbox/versions/1", params={"reply_to": first.json()["id"]}
        )
        stranger = await browser.get(
            "/users/gearbox/versions/1", params={"reply_to": "https://elsewhere.test/x"}
        )
    assert hidden_fields(plain.text, "/comments")["in_reply_to"] == version_uri
    assert hidden_fields(chosen.text, "/comments")["in_reply_to"] == first.json()["id"]
    assert hidden_fields(stranger.text, "/comments")["in_reply_to"] == version_uri
    assert hidden_fields(plain.text, "/comments")["return_to"] == "/users/gearbox/versions/1"


# --- cost --------------------------------------------------------------------------------------


async def statements_for(node: Node, path: str) -> int:
    return len(await statements_of(node, path))


async def test_a_version_page_costs_a_few_statements_whatever_its_size(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    await new_project(a, token, "gearbox")
    version_uri = (await publish(a, token, "gearbox", "PPL"))["id"]
    small = await statements_for(a, "/users/gearbox/versions/1")

    async with a.instance.sessions() as session:
        version_id = await session.scalar(
            select(VersionFile.version_id).where(VersionFile.filename == "gearbox.stl")
        )
        await session.execute(
            insert(VersionFile),
            [
                {
                    "version_id": version_id,
                    "position": 10 + n,
                    "filename": f"part{n}.stl",
                    "media_type": "model/stl",
                    "size": 100 + n,
                    "sha256": f"{n:064x}",
                }
                for n in range(30)
            ],
        )
        comments = [f"https://a.test/notes/c{n}" for n in range(40)]
        rows = [
            {"uri": uri, "actor_id": alice.id, "in_reply_to": version_uri, "content": f"<p>{n}</p>"}
            for n, uri in enumerate(comments)
        ]
        rows += [
            {"uri": f"{uri}/r", "actor_id": alice.id, "in_reply_to": uri, "content": "<p>re</p>"}
            for uri in comments[:20]
        ]
        await session.execute(insert(Note), rows)
        await session.commit()
    large = await statements_for(a, "/users/gearbox/versions/1")
    html = await html_page(a, "/users/gearbox/versions/1")
    assert "Comments (60)" in html and "part29.stl" in html
    assert large == small
    assert large <= 8
