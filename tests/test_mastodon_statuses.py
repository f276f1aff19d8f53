"""Mastodon's client API for statuses and timelines, on real instances."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from federation.db import utcnow
from objects.media_models import StatusIdempotencyKey
from objects.models import Note
from outbox.models import Delivery, OutboxActivity
from tests.support import Network, Node, app_token, call, count, get, running_node, settle
from tests.test_design_api import PNG, STL, new_project, publish


async def post(node: Node, token: str, text: str, **fields: Any) -> dict[str, Any]:
    response = await call(node, "POST", "/api/v1/statuses", token, json={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


async def design(node: Node, token: str, slug: str, tags: str = "lamp") -> dict[str, Any]:
    await new_project(node, token, slug, name=slug.title())
    response = await publish(
        node,
        token,
        slug,
        {"name": f"{slug.title()} one", "summary": "Bends", "licence": "MIT", "tags": tags},
        [("files", ("x.stl", STL, "model/stl")), ("previews", ("x.png", PNG, "image/png"))],
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_post_get_thread_and_delete(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    first = await post(a, token, "Hello <world>", spoiler_text="greeting")
    assert first["account"]["id"] == str(alice.id) and first["visibility"] == "public"
    assert "Hello &lt;world&gt;" in first["content"] and first["spoiler_text"] == "greeting"
    reply = await post(a, bea_token, "Hi back", in_reply_to_id=first["id"])
    assert reply["in_reply_to_id"] == first["id"]
    assert reply["in_reply_to_account_id"] == str(alice.id)
    deeper = await post(a, token, "Again", in_reply_to_id=reply["id"], visibility="unlisted")
    assert deeper["visibility"] == "unlisted"

    shown = (await get(a, f"/api/v1/statuses/{first['id']}")).json()
    assert shown["replies_count"] == 1
    thread = (await get(a, f"/api/v1/statuses/{reply['id']}/context")).json()
    assert [s["id"] for s in thread["ancestors"]] == [first["id"]]
    assert [s["id"] for s in thread["descendants"]] == [deeper["id"]]

    not_mine = await call(a, "DELETE", f"/api/v1/statuses/{first['id']}", bea_token)
    assert not_mine.status_code == 404
    deleted = await call(a, "DELETE", f"/api/v1/statuses/{deeper['id']}", token)
    assert deleted.status_code == 200 and deleted.json()["text"] == "Again"
    gone = await get(a, f"/api/v1/statuses/{deeper['id']}")
    assert gone.status_code == 404 and gone.json() == {"error": "Record not found"}


async def test_idempotency_key_returns_the_first_status_after_a_restart(
    new_database: Any, network: Network, tmp_path: Path
) -> None:
    database = await new_database()
    async with running_node("a.test", database, tmp_path, network) as a:
        alice, token = await a.user("alice")
        _, bea_token = await a.user("bea")
        one = await keyed(a, token, "abc", "once")
        # The same key from someone else is another status.
        theirs = await keyed(a, bea_token, "abc", "once")
    assert one.status_code == 200 and theirs.json()["id"] != one.json()["id"]
    async with running_node("a.test", database, tmp_path, network) as again:
        two = await keyed(again, token, "abc", "twice")
        other = await keyed(again, token, "xyz", "twice")
        async with again.instance.sessions() as session:
            # An hour later the key is forgotten: it posts anew.
            await session.execute(
                update(StatusIdempotencyKey).values(created_at=utcnow() - dt.timedelta(hours=2))
            )
            await session.commit()
        later = await keyed(again, token, "abc", "later")
        mine = await count(again, Note, Note.actor_id == alice.id, Note.deleted_at.is_(None))
    assert two.json()["id"] == one.json()["id"] and two.json()["content"] == "<p>once</p>"
    assert other.json()["id"] != one.json()["id"]
    assert later.json()["id"] not in (one.json()["id"], other.json()["id"]) and mine == 3


async def keyed(node: Node, token: str, key: str, text: str) -> httpx.Response:
    body, headers = {"status": text}, {"Idempotency-Key": key}
    return await call(node, "POST", "/api/v1/statuses", token, json=body, headers=headers)


async def test_errors_and_scopes(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    blank = await call(a, "POST", "/api/v1/statuses", token, json={"status": " "})
    assert blank.status_code == 422 and "blank" in blank.json()["error"]
    secret = await call(
        a, "POST", "/api/v1/statuses", token, json={"status": "x", "visibility": "secret"}
    )
    assert secret.status_code == 422 and "visibility" in secret.json()["error"]
    media = await call(
        a, "POST", "/api/v1/statuses", token, json={"status": "x", "media_ids": ["1"]}
    )
    assert media.status_code == 422 and "media" in media.json()["error"]
    assert (await get(a, "/api/v1/statuses/999999")).status_code == 404
    assert (await get(a, "/api/v1/statuses/nonsense")).status_code == 404
    assert (await get(a, "/api/v1/timelines/home")).status_code == 401

    read_only = await app_token(a, alice)
    refused = await call(a, "POST", "/api/v1/statuses", read_only, json={"status": "x"})
    assert refused.status_code == 403
    assert (await get(a, "/api/v1/timelines/home", read_only)).status_code == 200


async def test_favourites_and_boosts_count_and_list_who(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    status = await post(a, token, "Like me")
    path = f"/api/v1/statuses/{status['id']}"
    liked = await call(a, "POST", f"{path}/favourite", bea_token)
    assert liked.json()["favourited"] is True and liked.json()["favourites_count"] == 1
    again = await call(a, "POST", f"{path}/favourite", bea_token)
    assert again.json()["favourites_count"] == 1
    boosted = await call(a, "POST", f"{path}/reblog", bea_token)
    assert boosted.json()["reblogged"] is True and boosted.json()["reblog"]["reblogs_count"] == 1
    assert [x["id"] for x in (await get(a, f"{path}/favourited_by")).json()] == [str(bea.id)]
    assert [x["id"] for x in (await get(a, f"{path}/reblogged_by")).json()] == [str(bea.id)]
    undone = await call(a, "POST", f"{path}/unfavourite", bea_token)
    assert undone.json()["favourited"] is False and undone.json()["favourites_count"] == 0
    unboosted = await call(a, "POST", f"{path}/unreblog", bea_token)
    assert unboosted.json()["reblogs_count"] == 0


async def test_design_version_is_a_status_and_a_reply_is_a_comment(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    version = await design(a, token, "lamp", tags="lighting,desk")
    [status] = (await get(a, "/api/v1/timelines/tag/lighting")).json()
    assert status["id"].startswith("v") and status["uri"] == version["id"]
    assert "Lamp one" in status["content"] and "(MIT)" in status["content"]
    assert status["media_attachments"][0]["type"] == "image"
    assert status["card"]["title"] == "Lamp one" and status["card"]["image"]
    assert (await get(a, "/api/v1/timelines/tag/chairs")).json() == []

    reply = await post(a, bea_token, "Nice lamp", in_reply_to_id=status["id"])
    assert reply["in_reply_to_id"] == status["id"]
    shown = (await get(a, f"/api/v1/statuses/{status['id']}")).json()
    assert shown["replies_count"] == 1
    thread = (await get(a, f"/api/v1/statuses/{status['id']}/context")).json()
    assert [s["id"] for s in thread["descendants"]] == [reply["id"]]
    async with a.client() as client:
        replies = await client.get(version["id"] + "/replies?page=true")
    assert reply["uri"] in replies.text
    liked = await call(a, "POST", f"/api/v1/statuses/{status['id']}/favourite", bea_token)
    assert liked.status_code == 200 and liked.json()["favourites_count"] == 1


async def test_home_timeline_shows_a_followed_remote_post(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    [bob] = (await get(a, "/api/v1/accounts/search", token, q="bob@b.test", resolve="true")).json()
    await call(a, "POST", f"/api/v1/accounts/{bob['id']}/follow", token)
    await settle(a, b)
    await post(b, bob_token, "From far away")
    await settle(a, b)
    mine = await post(a, token, "From here")
    home = (await get(a, "/api/v1/timelines/home", token)).json()
    assert home[0]["id"] == mine["id"]
    assert "From far away" in home[1]["content"] and home[1]["account"]["id"] == bob["id"]
    local = (await get(a, "/api/v1/timelines/public", local="true")).json()
    assert [s["id"] for s in local] == [mine["id"]]
    remote = (await get(a, "/api/v1/timelines/public", remote="true")).json()
    assert [s["account"]["acct"] for s in remote] == ["bob@b.test"]
    theirs = (await get(a, f"/api/v1/accounts/{bob['id']}/statuses")).json()
    assert [s["id"] for s in theirs] == [home[1]["id"]]


async def test_timelines_page_with_link_headers(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    posted = [(await post(a, token, f"post {n}"))["id"] for n in range(42)]
    await design(a, token, "lamp")
    first = await get(a, "/api/v1/timelines/public", limit="40")
    ids = [s["id"] for s in first.json()]
    assert len(ids) == 40 and ids[0].startswith("v") and ids[1:] == posted[::-1][:39]
    second = await get(a, first.links["next"]["url"].removeprefix("https://a.test"))
    assert [s["id"] for s in second.json()] == posted[:3][::-1]
    back = await get(a, second.links["prev"]["url"].removeprefix("https://a.test"))
    assert [s["id"] for s in back.json()] == ids
    newer = await get(a, "/api/v1/timelines/public", min_id=posted[0], limit="2")
    assert [s["id"] for s in newer.json()] == posted[1:3][::-1]
    account = await get(a, f"/api/v1/accounts/{alice.id}/statuses", max_id=posted[1])
    assert [s["id"] for s in account.json()] == [posted[0]]


async def follow(node: Node, token: str, handle: str) -> dict[str, Any]:
    [found] = (await get(node, "/api/v1/accounts/search", token, q=handle, resolve="true")).json()
    await call(node, "POST", f"/api/v1/accounts/{found['id']}/follow", token)
    return found


async def note_on(node: Node, uri: str) -> Note | None:
    async with node.instance.sessions() as session:
        return await session.scalar(select(Note).where(Note.uri == uri))


async def inboxes_of(node: Node, note_uri: str) -> set[str]:
    async with node.instance.sessions() as session:
        rows = await session.scalars(
            select(Delivery.inbox_url)
            .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
            .where(OutboxActivity.object_uri == note_uri, OutboxActivity.type == "Create")
        )
        return set(rows)


async def test_private_status_reaches_followers_only(nodes: Any) -> None:
    a, b, c = await nodes("a.test"), await nodes("b.test"), await nodes("c.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    _, cleo_token = await a.user("cleo")
    _, bob_token = await b.user("bob")
    _, carol_token = await c.user("carol")
    await follow(b, bob_token, "alice@a.test")
    await follow(a, bea_token, "alice@a.test")
    await follow(c, carol_token, "bob@b.test")  # c knows a server, not alice's followers
    await settle(a, b, c)

    private = await post(a, token, "Followers only", visibility="private")
    assert private["visibility"] == "private"
    assert await inboxes_of(a, private["uri"]) == {"https://b.test/inbox"}
    await settle(a, b, c)
    received = await note_on(b, private["uri"])
    assert received is not None and received.visibility == "followers"
    assert await note_on(c, private["uri"]) is None

    path = f"/api/v1/statuses/{private['id']}"
    assert (await get(a, path, bea_token)).json()["visibility"] == "private"
    assert (await get(a, path, cleo_token)).status_code == 404
    assert (await get(a, path)).json() == {"error": "Record not found"}
    there = f"/api/v1/statuses/{received.id}"
    assert (await get(b, there, bob_token)).json()["content"] == "<p>Followers only</p>"
    assert (await get(b, there)).status_code == 404


async def test_direct_status_reaches_the_mentioned_only(nodes: Any) -> None:
    a, b, c = await nodes("a.test"), await nodes("b.test"), await nodes("c.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    _, cleo_token = await a.user("cleo")
    _, bob_token = await b.user("bob")
    _, carol_token = await c.user("carol")
    await follow(b, bob_token, "alice@a.test")
    await follow(a, cleo_token, "alice@a.test")
    await settle(a, b, c)

    text = "@carol@c.test @bea and @nobody@c.test, see this"
    direct = await post(a, token, text, visibility="direct")
    assert direct["visibility"] == "direct"
    assert await inboxes_of(a, direct["uri"]) == {"https://c.test/inbox"}
    async with a.instance.sessions() as session:
        create = await session.scalar(
            select(OutboxActivity.payload).where(OutboxActivity.object_uri == direct["uri"])
        )
    document = create["object"]
    assert set(document["to"]) == {"https://c.test/users/carol", bea.uri}
    assert document["cc"] == []
    assert {t["name"] for t in document["tag"]} == {"@carol@c.test", "@bea@a.test"}
    await settle(a, b, c)
    received = await note_on(c, direct["uri"])
    assert received is not None and received.visibility == "direct"
    assert await note_on(b, direct["uri"]) is None

    path = f"/api/v1/statuses/{direct['id']}"
    assert (await get(a, path, bea_token)).status_code == 200
    assert (await get(a, path, cleo_token)).status_code == 404
    assert (await get(c, f"/api/v1/statuses/{received.id}", carol_token)).status_code == 200
    assert (await get(c, f"/api/v1/statuses/{received.id}")).status_code == 404

    alone = await post(a, token, "Note to self", visibility="direct")
    assert await inboxes_of(a, alone["uri"]) == set()
    assert (await get(a, f"/api/v1/statuses/{alone['id']}", bea_token)).status_code == 404


async def test_bookmarks_of_notes_and_versions(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    note = await post(a, token, "Keep me")
    version = await design(a, token, "lamp")
    [version_status] = (await get(a, "/api/v1/timelines/tag/lamp")).json()
    assert version_status["uri"] == version["id"]
    # Bookmarking twice changes nothing: the note stays the older bookmark.
    for status in (note, version_status, note):
        kept = await call(a, "POST", f"/api/v1/statuses/{status['id']}/bookmark", bea_token)
        assert kept.status_code == 200 and kept.json()["bookmarked"] is True

    page = await get(a, "/api/v1/bookmarks", bea_token, limit="1")
    assert [s["id"] for s in page.json()] == [version_status["id"]]
    older = await get(a, page.links["next"]["url"].removeprefix("https://a.test"), bea_token)
    assert [s["id"] for s in older.json()] == [note["id"]]
    assert older.json()[0]["bookmarked"] is True
    every = (await get(a, "/api/v1/bookmarks", bea_token)).json()
    assert [s["id"] for s in every] == [version_status["id"], note["id"]]
    # Only the viewer's own bookmarks count.
    assert (await get(a, f"/api/v1/statuses/{note['id']}", token)).json()["bookmarked"] is False
    assert (await get(a, "/api/v1/bookmarks", token)).json() == []

    removed = await call(a, "POST", f"/api/v1/statuses/{note['id']}/unbookmark", bea_token)
    assert removed.status_code == 200 and removed.json()["bookmarked"] is False
    left = (await get(a, "/api/v1/bookmarks", bea_token)).json()
    assert [s["id"] for s in left] == [version_status["id"]]
    missing = await call(a, "POST", "/api/v1/statuses/999999/bookmark", bea_token)
    assert missing.status_code == 404
    assert (await get(a, "/api/v1/bookmarks")).status_code == 401
    # A cursor that is no bookmark id (a status id) bounds nothing, as on Mastodon.
    stray = await get(a, "/api/v1/bookmarks", bea_token, max_id="v1")
    assert stray.status_code == 200 and stray.json() == left
