"""Boosts as Mastodon shows reblogs: a status of the booster's wrapping the original, in the
answer to reblog, by its own id, and in home and account timelines, here and across
instances."""

from __future__ import annotations

from typing import Any

from tests.support import call, get, settle
from tests.test_mastodon_statuses import post
from tests.test_mastodon_streaming import AsgiStream


async def test_reblog_answers_a_status_wrapping_the_original(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    _, carol_token = await a.user("carol")
    status = await post(a, token, "Boost me")
    path = f"/api/v1/statuses/{status['id']}"

    boosted = (await call(a, "POST", f"{path}/reblog", bea_token)).json()
    assert boosted["id"].startswith("r") and boosted["id"] != status["id"]
    assert boosted["account"]["id"] == str(bea.id) and boosted["content"] == ""
    assert boosted["reblog"]["id"] == status["id"]
    assert boosted["reblog"]["account"]["id"] == str(alice.id)
    assert boosted["reblog"]["reblogs_count"] == 1 and boosted["reblogged"] is True
    # Boosting twice changes nothing: the same wrapping status.
    again = (await call(a, "POST", f"{path}/reblog", bea_token)).json()
    assert again["id"] == boosted["id"]
    shown = (await get(a, f"/api/v1/statuses/{boosted['id']}", carol_token)).json()
    assert shown["reblog"]["id"] == status["id"] and shown["reblogged"] is False

    followed = await call(a, "POST", f"/api/v1/accounts/{bea.id}/follow", carol_token)
    assert followed.status_code == 200, followed.text
    own = await post(a, carol_token, "Mine, later")
    home = await get(a, "/api/v1/timelines/home", carol_token)
    assert [s["id"] for s in home.json()] == [own["id"], boosted["id"]]
    assert home.json()[1]["reblog"]["content"] == status["content"]
    # A boost's id is a cursor like any other.
    older = await get(a, "/api/v1/timelines/home", carol_token, max_id=own["id"])
    assert [s["id"] for s in older.json()] == [boosted["id"]]
    assert (await get(a, "/api/v1/timelines/home", carol_token, max_id=boosted["id"])).json() == []

    listed = (await get(a, f"/api/v1/accounts/{bea.id}/statuses")).json()
    assert [s["id"] for s in listed] == [boosted["id"]]
    without = await get(a, f"/api/v1/accounts/{bea.id}/statuses", exclude_reblogs="true")
    assert without.json() == []

    undone = (await call(a, "POST", f"{path}/unreblog", bea_token)).json()
    assert undone["id"] == status["id"] and undone["reblog"] is None
    assert undone["reblogged"] is False and undone["reblogs_count"] == 0
    home = await get(a, "/api/v1/timelines/home", carol_token)
    assert [s["id"] for s in home.json()] == [own["id"]]
    assert (await get(a, f"/api/v1/statuses/{boosted['id']}")).status_code == 404


async def test_deleting_a_boost_withdraws_it_and_keeps_the_original(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    status = await post(a, token, "Boost my own")
    mine = (await call(a, "POST", f"/api/v1/statuses/{status['id']}/reblog", token)).json()
    theirs = (await call(a, "POST", f"/api/v1/statuses/{status['id']}/reblog", bea_token)).json()
    assert (await call(a, "DELETE", f"/api/v1/statuses/{theirs['id']}", token)).status_code == 404
    deleted = await call(a, "DELETE", f"/api/v1/statuses/{mine['id']}", token)
    assert deleted.status_code == 200 and deleted.json()["reblog"]["id"] == status["id"]
    kept = (await get(a, f"/api/v1/statuses/{status['id']}", token)).json()
    assert kept["reblogs_count"] == 1 and kept["reblogged"] is False


async def test_a_boost_of_a_private_note_is_not_shown(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    _, carol_token = await a.user("carol")
    secret = await post(a, token, "Followers only", visibility="private")
    refused = await call(a, "POST", f"/api/v1/statuses/{secret['id']}/reblog", bea_token)
    assert refused.status_code == 404
    await call(a, "POST", f"/api/v1/accounts/{bea.id}/follow", carol_token)
    assert (await get(a, "/api/v1/timelines/home", carol_token)).json() == []


async def test_a_remote_boost_shows_in_home_as_a_reblog(nodes: Any) -> None:
    a = await nodes("a.test")
    b = await nodes("b.test")
    alice, token = await a.user("alice")
    _, bea_token = await b.user("bea")
    _, carol_token = await a.user("carol")
    status = await post(a, token, "Travel far")
    follow = await a.post_outbox("carol", carol_token, {"type": "Follow", "object": "bea@b.test"})
    assert follow.status_code == 201, follow.text
    await settle(a, b)
    # Bea finds the note on her instance by its URL, then boosts it there.
    found = await get(b, "/api/v2/search", bea_token, q=status["uri"], resolve="true")
    [remote] = found.json()["statuses"]
    boosted = await call(b, "POST", f"/api/v1/statuses/{remote['id']}/reblog", bea_token)
    assert boosted.json()["reblog"]["uri"] == status["uri"]
    await settle(a, b)
    [shown] = (await get(a, "/api/v1/timelines/home", carol_token)).json()
    assert shown["account"]["acct"] == "bea@b.test"
    assert shown["reblog"]["id"] == status["id"]
    assert shown["reblog"]["account"]["id"] == str(alice.id)
    assert shown["reblog"]["reblogs_count"] == 1


async def test_a_boost_is_streamed_to_the_boosters_followers(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    _, carol_token = await a.user("carol")
    status = await post(a, token, "Stream me")
    await call(a, "POST", f"/api/v1/accounts/{bea.id}/follow", carol_token)
    async with AsgiStream(a, "/api/v1/streaming/user", carol_token) as stream:
        boosted = await call(a, "POST", f"/api/v1/statuses/{status['id']}/reblog", bea_token)
        update = await stream.next_of("update")
    assert update["id"] == boosted.json()["id"] and update["reblog"]["id"] == status["id"]
    assert update["account"]["id"] == str(bea.id)
