"""Hashtags: parsed from local notes (linked, tagged on the wire), read from received
notes, indexed for tag timelines and account filters, and followed into home timelines
across instances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from objects.hashtags import link_hashtags, tags_in_text
from objects.tag_models import NoteTag
from outbox.models import OutboxActivity
from tests.support import Node, call, get, settle
from tests.test_web_browse import design


async def post(node: Node, token: str, text: str, **body: Any) -> dict[str, Any]:
    posted = await call(node, "POST", "/api/v1/statuses", token, json={"status": text, **body})
    assert posted.status_code == 200, posted.text
    return posted.json()


async def contents(node: Node, path: str, token: str | None = None, **params: Any) -> list[str]:
    answer = await get(node, path, token, **params)
    assert answer.status_code == 200, answer.text
    return [status["content"] for status in answer.json()]


def test_which_words_are_hashtags() -> None:
    text = "#Bicycle repair, #bike_2 and #42 at https://x.test/#frag or a&#39;s ##double #é"
    assert tags_in_text(text) == ["bicycle", "bike_2", "é"]
    linked = link_hashtags("<p>Fix the #Bicycle</p>", "https://a.test")
    assert 'href="https://a.test/tags/bicycle"' in linked and ">#<span>Bicycle</span></a>" in linked


async def test_local_notes_are_tagged_linked_and_listed(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    status = await post(a, token, "New wheel for the #Bicycle and the #cargo bike")
    assert [t["name"] for t in status["tags"]] == ["bicycle", "cargo"]
    assert status["tags"][0]["url"] == "https://a.test/tags/bicycle"
    assert 'href="https://a.test/tags/bicycle"' in status["content"]
    async with a.instance.sessions() as session:
        [create] = await session.scalars(
            select(OutboxActivity).where(OutboxActivity.type == "Create")
        )
    hashtags = [t for t in create.payload["object"]["tag"] if t["type"] == "Hashtag"]
    assert hashtags == [
        {"type": "Hashtag", "href": "https://a.test/tags/bicycle", "name": "#bicycle"},
        {"type": "Hashtag", "href": "https://a.test/tags/cargo", "name": "#cargo"},
    ]
    await post(a, token, "no tags here")
    await post(a, token, "a #bicycle for friends only", visibility="private")
    await design(a, alice, "frame", tags=("bicycle",))
    timeline = await contents(a, "/api/v1/timelines/tag/bicycle")
    assert len(timeline) == 2  # the public note and the design, not the private note
    assert any("New wheel" in c for c in timeline) and any("Frame" in c for c in timeline)
    assert len(await contents(a, "/api/v1/timelines/tag/cargo", local="true")) == 1
    assert await contents(a, "/api/v1/timelines/tag/nothing") == []
    account = status["account"]["id"]
    tagged = await contents(a, f"/api/v1/accounts/{account}/statuses", token, tagged="#cargo")
    assert len(tagged) == 1 and "New wheel" in tagged[0]


async def test_following_a_tag_across_instances(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    carol, carol_token = await b.user("carol")
    _, bob_token = await b.user("bob")
    # carol's follow brings alice's public notes to b; bob follows only the tag.
    await b.post_outbox("carol", carol_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)

    followed = await call(b, "POST", "/api/v1/tags/Bicycle/follow", bob_token)
    assert followed.status_code == 200, followed.text
    assert followed.json()["name"] == "bicycle" and followed.json()["following"] is True
    assert (await get(b, "/api/v1/tags/bicycle", bob_token)).json()["following"] is True
    assert "following" not in (await get(b, "/api/v1/tags/bicycle")).json()
    listed = (await get(b, "/api/v1/followed_tags", bob_token)).json()
    assert [t["name"] for t in listed] == ["bicycle"]

    await post(a, alice_token, "Brakes fixed on my #bicycle")
    await post(a, alice_token, "Lunch, no tag")
    await settle(a, b)
    async with b.instance.sessions() as session:
        names = list(await session.scalars(select(NoteTag.name)))
    assert names == ["bicycle"]  # read from the received note's tag array
    home = await get(b, "/api/v1/timelines/home", bob_token)
    assert [s["tags"][0]["name"] for s in home.json()] == ["bicycle"]
    assert "Brakes fixed" in home.json()[0]["content"]
    # carol follows alice: the note is in her home once, not twice.
    carol_home = await contents(b, "/api/v1/timelines/home", carol_token)
    assert len(carol_home) == 2
    tag_timeline = await contents(b, "/api/v1/timelines/tag/bicycle")
    assert len(tag_timeline) == 1
    # Designs carrying the tag come into bob's home too.
    await design(b, carol, "frame", tags=("bicycle",))
    home = await get(b, "/api/v1/timelines/home", bob_token)
    assert len(home.json()) == 2 and home.json()[0]["id"].startswith("v")
    assert "Frame" in home.json()[0]["content"]

    left = await call(b, "POST", "/api/v1/tags/bicycle/unfollow", bob_token)
    assert left.status_code == 200 and left.json()["following"] is False
    assert await contents(b, "/api/v1/timelines/home", bob_token) == []
    assert (await get(b, "/api/v1/followed_tags", bob_token)).json() == []
    bad = await call(b, "POST", "/api/v1/tags/%20/follow", bob_token)
    assert bad.status_code == 404 and "hashtag" in bad.json()["error"]
    assert (await call(b, "POST", "/api/v1/tags/bicycle/follow")).status_code == 401


async def test_an_edit_replaces_the_hashtags_here_and_there(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, carol_token = await b.user("carol")
    await b.post_outbox("carol", carol_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    status = await post(a, alice_token, "A new #lamp")
    await settle(a, b)
    assert len(await contents(b, "/api/v1/timelines/tag/lamp")) == 1
    edit = {"type": "Update", "object": {"id": status["uri"], "content": "Now a #chair"}}
    edited = await a.post_outbox("alice", alice_token, edit)
    assert edited.status_code in (200, 201), edited.text
    await settle(a, b)
    for node in (a, b):
        assert await contents(node, "/api/v1/timelines/tag/lamp") == []
        [chair] = await contents(node, "/api/v1/timelines/tag/chair")
        assert "Now a" in chair
