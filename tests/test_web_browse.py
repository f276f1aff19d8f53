"""Browsing in a browser: the home page's latest designs, project and person pages, following
(here and from one's own instance), search, and hostile remote comments shown inert.

Designs are made through the same services the API and the web forms use; pages are read
over real HTTP from real apps, and remote instances are real apps on the in-memory network.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from html import unescape
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.moderation import silence_actor, suspend_actor
from federation.keys import load_rsa_private_pem
from federation.vocab import PUBLIC
from federation.webfinger import SUBSCRIBE_REL
from objects.design_models import DesignVersion
from objects.designs import VersionSpec, create_project, local_project
from objects.models import Note
from outbox.designs import publish_version
from tests.support import Node, call, count, settle, signed_post
from tests.test_design_federation import tiny_png
from tests.web_support import TETRAHEDRON, csrf_for, signed_in_browser, statements_of, text_of
from web.browser import SESSION_COOKIE
from web.form_guard import FIELD

ACTIVITY_JSON = "application/activity+json"
HTML = "text/html,application/xhtml+xml,*/*;q=0.8"


async def design(
    node: Node, owner: Actor, slug: str, licence: str = "CC-BY-SA-4.0", tags: tuple[str, ...] = ()
) -> str:
    """A new project with one version (a real local publish); its version URI."""
    instance = node.instance
    async with instance.sessions() as session:
        found = await local_project(session, slug)
        if found is None:
            found = await create_project(
                session, instance.urls, owner, slug=slug, name=slug.title(), summary=""
            )
        project, actor = found
        spec = VersionSpec(
            label=f"v{project.versions_count + 1}",
            name=f"{slug.title()} design",
            licence=instance.policy.terms(licence),
            summary=f"A design called {slug}",
            tags=tags,
            authors=(owner.uri,),
        )
        version, _ = await publish_version(
            session, instance.urls, instance.policy, project, actor, spec
        )
        await session.commit()
        return version.uri


async def page(node: Node, path: str, client: httpx.AsyncClient | None = None) -> httpx.Response:
    if client is not None:
        return await client.get(path, headers={"Accept": HTML})
    async with node.client() as browser:
        return await browser.get(path, headers={"Accept": HTML})


async def version_id(node: Node, uri: str) -> int:
    async with node.instance.sessions() as session:
        found = await session.scalar(select(DesignVersion.id).where(DesignVersion.uri == uri))
    assert found is not None
    return found


def card_names(html: str) -> list[str]:
    return re.findall(r'<h3><a href="[^"]+">([^<]+)</a>', html)


# --- home ---------------------------------------------------------------------------------


async def test_home_lists_latest_designs_newest_first_and_filters(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, _ = await a.user("alice")
    bob, _ = await b.user("bob")
    await design(a, alice, "lamp", "CC-BY-SA-4.0", ("light",))
    await design(a, alice, "gear", "CERN-OHL-S-2.0 OR MIT", ("gears", "printing"))
    await design(a, alice, "lamp", "CC-BY-SA-4.0", ("light",))  # lamp's second version
    await design(a, alice, "chair", "CC-BY-NC-4.0")
    # A remote design reaches a.test when someone there follows its project.
    await design(b, bob, "boat", "MIT", ("boats",))
    _, alicia_token = await a.user("alicia")
    follow = await call(a, "POST", "/api/v1/follows", alicia_token, json={"target": "@boat@b.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    await design(b, bob, "boat", "MIT", ("boats",))  # its second version is delivered
    await settle(a, b)

    home = await page(a, "/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert card_names(home.text) == ["Boat design", "Chair design", "Lamp design", "Gear design"]
    assert '<ul class="cards">' in home.text and home.text.count('<li class="card">') == 4
    assert "v2" in text_of(home.text), "a project's card shows its latest version"
    assert "https://a.test/users/lamp/versions/2" in home.text
    assert "https://a.test/users/lamp/versions/1" not in home.text
    assert '<option value="CC-BY-SA-4.0"' in home.text, "the licence choices are in the form"

    by_licence = await page(a, "/?licence=cc-by-sa-4.0")
    assert card_names(by_licence.text) == ["Lamp design"]
    assert card_names((await page(a, "/?licence=MIT")).text) == ["Boat design", "Gear design"]
    assert card_names((await page(a, "/?tag=%23gears")).text) == ["Gear design"]
    assert card_names((await page(a, "/?scope=remote")).text) == ["Boat design"]
    # A remote design's card leads to its page here, to comment on and fork it from here.
    boat = re.search(r'<h3><a href="(/designs/\d+)">Boat design</a>', home.text)
    assert boat is not None, "a remote card leads to its page on this instance"
    boat_page = await page(a, boat[1])
    assert boat_page.status_code == 200
    remote_uri = "https://b.test/users/boat/versions/2"
    assert f'href="/fork?from={quote(remote_uri, safe="")}"' in boat_page.text
    assert f'<a href="{remote_uri}" rel="noopener noreferrer">see it on its own' in boat_page.text
    lamp = re.search(r'<h3><a href="([^"]+)">Lamp design</a>', home.text)
    assert lamp is not None and lamp[1] == "https://a.test/users/lamp/versions/2"
    lamp_id = await version_id(a, lamp[1])
    moved = await page(a, f"/designs/{lamp_id}")
    assert moved.status_code == 301 and moved.headers["location"] == lamp[1]
    local = card_names((await page(a, "/?scope=local&licence=CC-BY-NC-4.0")).text)
    assert local == ["Chair design"]

    for query, words in [
        ("licence=NotALicence-9", "unknown licence id"),
        ("licence=MIT%20OR%20CC0-1.0", "choose one licence id"),
        ("tag=%3Cb%3E", "is not a tag"),
        ("scope=mars", "'scope' is local"),
        ("before=soon", "'before'"),
    ]:
        refused = await page(a, f"/?{query}")
        assert refused.status_code == 400, query
        assert 'role="alert"' in refused.text and words in unescape(refused.text), query


async def test_home_pages_by_24_and_hides_suspended_and_silenced_projects(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    for n in range(27):
        await design(a, alice, f"thing{n:02d}")
    first = await page(a, "/")
    names = card_names(first.text)
    assert names == [f"Thing{n:02d} design" for n in range(26, 2, -1)]
    (older,) = re.findall(r'<a rel="next" href="([^"]+)"', first.text)
    second = await page(a, older.replace("&amp;", "&"))
    assert card_names(second.text) == ["Thing02 design", "Thing01 design", "Thing00 design"]
    assert 'rel="next"' not in second.text

    async with a.instance.sessions() as session:
        for slug, hide in (("thing26", suspend_actor), ("thing25", silence_actor)):
            found = await local_project(session, slug)
            assert found is not None
            hide(found[1])
        await session.commit()
    shown = card_names((await page(a, "/")).text)
    assert "Thing26 design" not in shown and "Thing25 design" not in shown
    assert shown[0] == "Thing24 design"


async def test_the_home_page_runs_the_same_few_statements_however_many_cards(
    nodes: Any,
) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    await design(a, alice, "first", tags=("x",))
    one = await statements_of(a, "/?tag=x")
    for n in range(12):
        await design(a, alice, f"more{n}", tags=("x",))
    many = await statements_of(a, "/?tag=x")
    assert len(many) == len(one) <= 4, many


async def test_cards_show_the_thumbnail_once_made_else_the_preview_image(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    for slug, files in (
        ("tetra", [("files", ("tetra.stl", TETRAHEDRON, "model/stl"))]),
        ("poster", [("previews", ("poster.png", tiny_png(), "image/png"))]),
    ):
        made = await call(a, "POST", "/api/v1/designs", token, json={"slug": slug})
        assert made.status_code == 201, made.text
        published = await call(
            a,
            "POST",
            f"/api/v1/designs/{slug}/versions",
            token,
            data={"name": slug.title(), "licence": "MIT"},
            files=files,
        )
        assert published.status_code == 201, published.text
    stl_sha = hashlib.sha256(TETRAHEDRON).hexdigest()
    png_sha = hashlib.sha256(tiny_png()).hexdigest()

    before = await page(a, "/")
    assert f'src="https://a.test/files/{png_sha}/poster.png"' in before.text
    assert "/thumbnails/" not in before.text, "no thumbnail before the worker made it"
    while await a.instance.thumbnail_worker.run_once():
        pass
    after = await page(a, "/")
    assert f'<img src="https://a.test/thumbnails/{stl_sha}.png"' in after.text


async def test_a_remote_design_is_commented_on_from_its_page_here(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    bob, _ = await b.user("bob")
    remote_uri = await design(b, bob, "boat", "MIT")
    _, alicia_token = await a.user("alicia")
    follow = await call(a, "POST", "/api/v1/follows", alicia_token, json={"target": "@boat@b.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    await design(b, bob, "boat", "MIT")  # delivered to a.test now that it follows
    await settle(a, b)
    remote_uri = remote_uri.replace("/versions/1", "/versions/2")
    here = f"/designs/{await version_id(a, remote_uri)}"

    carl = await signed_in_browser(a, "carl")
    fields = await csrf_for(carl, here, "/comments")
    assert fields["in_reply_to"] == remote_uri and fields["return_to"] == here
    sent = await carl.post("/comments", data=fields | {"content": "Sails well, thanks!"})
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"{here}#comment-")
    assert "Sails well, thanks!" in text_of((await page(a, here)).text)
    await settle(a, b)
    async with b.instance.sessions() as session:
        reply = await session.scalar(select(Note).where(Note.in_reply_to == remote_uri))
    assert reply is not None and "Sails well, thanks!" in reply.content


# --- project and person pages, following ----------------------------------------------------


async def test_project_page_shows_versions_maintainers_followers_and_follow_forms(
    nodes: Any,
) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, _ = await a.user("alice")
    _, bob_token = await b.user("bob")
    await design(a, alice, "gearbox", "CC-BY-SA-4.0")
    await design(a, alice, "gearbox", "CC-BY-SA-4.0")
    follow = await call(b, "POST", "/api/v1/follows", bob_token, json={"target": "@gearbox@a.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)

    anonymous = await page(a, "/users/gearbox")
    assert anonymous.status_code == 200
    html, words = anonymous.text, text_of(anonymous.text)
    assert '<link rel="alternate" type="application/activity+json"' in html
    assert words.index("Gearbox design v2") < words.index("Gearbox design v1")
    assert "@alice@a.test" in words and "design project" in words
    assert '<dd id="followers-count">1</dd>' in html
    assert '<dd id="forks-count">0</dd>' in html
    assert 'action="/users/gearbox/remote-follow"' in html and 'name="handle"' in html
    assert 'action="/follow"' not in html

    carol = await signed_in_browser(a, "carol")
    signed = await page(a, "/users/gearbox", carol)
    assert (
        'action="/follow"' in signed.text and 'value="https://a.test/users/gearbox"' in signed.text
    )

    person = await page(a, "/users/alice")
    assert "@alice@a.test" in text_of(person.text) and "individual" in text_of(person.text)
    assert card_names(person.text) == ["Gearbox design"]


async def test_the_follow_form_follows_and_refuses_a_forged_post(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    await design(a, alice, "gearbox")
    carol = await signed_in_browser(a, "carol")
    target = {"target": "https://a.test/users/gearbox", "return_to": "/users/gearbox"}

    forged = await carol.post("/follow", data=target | {FIELD: "nonsense"})
    assert forged.status_code == 403 and "reload the page" in forged.text
    assert await count(a, Follow) == 0

    fields = await csrf_for(carol, "/users/gearbox", "/follow")
    done = await carol.post("/follow", data=fields)
    assert done.status_code == 303 and done.headers["location"] == "/users/gearbox"
    async with a.instance.sessions() as session:
        state = await session.scalar(select(Follow.state))
    assert state == FOLLOW_ACCEPTED
    after = await page(a, "/users/gearbox", carol)
    assert "You follow @gearbox@a.test" in text_of(after.text)

    # Signed out (the session ended elsewhere): sent to sign in, back to the page after.
    carol.cookies.delete(SESSION_COOKIE)
    stranger = await carol.post("/follow", data=fields)
    assert stranger.status_code == 303
    assert stranger.headers["location"] == "/sign-in?next=%2Fusers%2Fgearbox"
    assert await count(a, Follow) == 1


async def test_follow_from_your_instance_goes_through_its_subscribe_template(
    nodes: Any, network: Any
) -> None:
    a, b, c = await nodes("a.test"), await nodes("b.test"), await nodes("c.test")
    alice, _ = await a.user("alice")
    await design(a, alice, "gearbox")
    bob = await signed_in_browser(b, "bob")
    await c.user("cleo")

    async with a.client() as browser:
        sent = await browser.get("/users/gearbox/remote-follow", params={"handle": "@bob@b.test"})
        # Even the handle's own server is named on a page of ours before the browser leaves.
        assert sent.status_code == 200 and "location" not in sent.headers
        assert "Continue to b.test" in text_of(sent.text)
        uri = quote("https://a.test/users/gearbox", safe="")
        location = f"https://b.test/authorize_interaction?uri={uri}"
        assert f'href="{location}"' in sent.text

        bad = await browser.get("/users/gearbox/remote-follow", params={"handle": "bob"})
        assert bad.status_code == 422 and "not a valid handle" in text_of(bad.text)
        assert 'role="alert"' in bad.text and 'action="/users/gearbox/remote-follow"' in bad.text
        # c.test answers WebFinger without the template: a clear page, no redirect.
        network.intercept["c.test"] = lambda request: (
            httpx.Response(200, json={"subject": "acct:cleo@c.test", "links": []})
            if request.url.path == "/.well-known/webfinger"
            else None
        )
        plain = await browser.get("/users/gearbox/remote-follow", params={"handle": "cleo@c.test"})
        assert plain.status_code == 422 and "does not offer" in text_of(plain.text)
        # A template on another site is shown as a link to choose, never a blind redirect.
        elsewhere = "https://evil.example/follow?uri={uri}"
        network.intercept["c.test"] = lambda request: httpx.Response(
            200,
            json={
                "subject": "acct:cleo@c.test",
                "links": [{"rel": SUBSCRIBE_REL, "template": elsewhere}],
            },
        )
        shown = await browser.get("/users/gearbox/remote-follow", params={"handle": "cleo@c.test"})
        assert shown.status_code == 200 and "location" not in shown.headers
        assert "Continue to evil.example" in text_of(shown.text)

    async with b.client() as stranger:
        asked = await stranger.get(location)
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/sign-in?next=%2Fauthorize_interaction")

    landing = await bob.get(location)
    assert landing.status_code == 200 and "@gearbox@a.test" in text_of(landing.text)
    fields = await csrf_for(bob, location, "/follow")
    assert fields["target"] == "https://a.test/users/gearbox"
    followed = await bob.post("/follow", data=fields)
    assert followed.status_code == 303
    await settle(a, b)
    async with a.instance.sessions() as session:
        follower = await session.scalar(
            select(Actor.uri).join(Follow, Follow.follower_id == Actor.id)
        )
    assert follower == "https://b.test/users/bob"


# --- search ---------------------------------------------------------------------------------


async def test_search_finds_designs_by_word_and_tag_and_people_by_handle(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, _ = await a.user("alice")
    await design(a, alice, "planetary", tags=("gears",))
    await design(a, alice, "stool", tags=("furniture",))

    by_word = await page(a, "/search?q=planetary")
    assert by_word.status_code == 200 and card_names(by_word.text) == ["Planetary design"]
    by_tag = await page(a, "/search?q=%23furniture")
    assert card_names(by_tag.text) == ["Stool design"]
    person = await page(a, "/search?q=%40alice%40a.test")
    assert "@alice@a.test" in text_of(person.text)
    assert 'href="https://a.test/users/alice"' in person.text

    # On b.test alice is unknown: only a signed-in member's search looks her up.
    anonymous = await page(b, "/search?q=%40alice%40a.test")
    assert "No people or projects found" in text_of(anonymous.text)
    bob = await signed_in_browser(b, "bob")
    resolved = await page(b, "/search?q=%40alice%40a.test", bob)
    assert "@alice@a.test" in text_of(resolved.text)
    assert "/authorize_interaction?uri=" in resolved.text


# --- hostile remote comments ------------------------------------------------------------------


async def test_a_hostile_remote_reply_is_rendered_inert_on_the_note_page(nodes: Any) -> None:
    a, evil = await nodes("a.test"), await nodes("evil.test")
    alice, alice_token = await a.user("alice")
    version = await design(a, alice, "gearbox")
    comment = await call(
        a,
        "POST",
        "/api/v1/comments",
        alice_token,
        json={"in_reply_to": version, "content": "Printed it, works well."},
    )
    assert comment.status_code == 201, comment.text
    note_uri = comment.json()["id"]

    mallory, _ = await evil.user("mallory")
    assert mallory.private_key_pem is not None
    hostile = (
        '<p>nice<script>alert(1)</script><img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)" onclick="alert(4)">click</a></p>'
    )
    note = {
        "id": f"https://evil.test/notes/{uuid.uuid4().hex}",
        "type": "Note",
        "attributedTo": mallory.uri,
        "inReplyTo": note_uri,
        "content": hostile,
        "url": "javascript:alert(5)",
        "to": [PUBLIC],
    }
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://evil.test/activities/{uuid.uuid4().hex}",
        "type": "Create",
        "actor": mallory.uri,
        "object": note,
        "to": [PUBLIC],
    }
    key = load_rsa_private_pem(mallory.private_key_pem)
    body = json.dumps(activity).encode()
    sent = await signed_post(a, "/inbox", body, mallory.public_key_id, key)
    assert sent.status_code == 202, sent.text
    await settle(a, evil)

    shown = await page(a, note_uri.removeprefix("https://a.test"))
    assert shown.status_code == 200
    html = shown.text
    assert "Printed it, works well." in html and "nice" in html and "click" in html
    assert "@mallory@evil.test" in text_of(html), "the hostile reply is shown, inert"
    assert "<script" not in html.replace('<script type="module"', "")
    assert not re.search(r"\son[a-z]+\s*=", html), "no event handler attributes"
    assert "javascript:" not in html
    assert 'href="https://a.test/users/gearbox/versions/1"' in html, "the design is linked"
    assert f'<link rel="alternate" type="application/activity+json" href="{note_uri}">' in html

    # Alice answers Mallory: her answer's page quotes the hostile comment, inert too.
    answer = await call(
        a,
        "POST",
        "/api/v1/comments",
        alice_token,
        json={"in_reply_to": note["id"], "content": "Please do not."},
    )
    assert answer.status_code == 201, answer.text
    quoted = (await page(a, answer.json()["id"].removeprefix("https://a.test"))).text
    assert 'id="in-reply-to"' in quoted and "click" in quoted and "Please do not." in quoted
    assert "<script" not in quoted.replace('<script type="module"', "")
    assert not re.search(r"\son[a-z]+\s*=", quoted) and "javascript:" not in quoted
    assert 'href="https://a.test/users/gearbox/versions/1"' in quoted, "found up the thread"
