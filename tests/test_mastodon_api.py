"""Mastodon's client API: accounts, follows and the endpoints apps call at start-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from tests.support import Node, call, get, settle


async def actor_row(node: Node, uri: str) -> Actor | None:
    async with node.instance.sessions() as session:
        return await session.scalar(select(Actor).where(Actor.uri == uri))


async def follow_state(node: Node, follower_uri: str, followee_uri: str) -> str | None:
    async with node.instance.sessions() as session:
        follower = await session.scalar(select(Actor.id).where(Actor.uri == follower_uri))
        followee = await session.scalar(select(Actor.id).where(Actor.uri == followee_uri))
        return await session.scalar(
            select(Follow.state).where(
                Follow.follower_id == follower, Follow.followee_id == followee
            )
        )


async def test_verify_credentials_shows_the_person_and_what_they_edit(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice", kind="cooperative", role="moderator")
    for path in ("/api/v1/accounts/verify_credentials", "/api/v1/accounts/verify_credentials/"):
        response = await get(a, path, token)
        assert response.status_code == 200
        me = response.json()
        assert me["id"] == str(alice.id) and me["acct"] == "alice"
        assert me["source"]["privacy"] == "public" and me["source"]["follow_requests_count"] == 0
        assert me["role"]["name"] == "moderator"
        assert {"name": "Entity kind", "value": "cooperative", "verified_at": None} in me["fields"]
        assert me["followers_count"] == 0 and me["statuses_count"] == 0
    # Apps load every account's avatar; the URL must answer with an image.
    avatar = await get(a, me["avatar"].removeprefix("https://a.test"))
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/png"


async def test_update_credentials_reaches_a_remote_follower(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    assert await follow_state(b, bob.uri, alice.uri) == FOLLOW_ACCEPTED

    response = await call(
        a,
        "PATCH",
        "/api/v1/accounts/update_credentials",
        token,
        json={
            "display_name": "Alice Maker",
            "note": "I make lamps & chairs.",
            "fields_attributes": [
                {"name": "Workshop", "value": "Valley"},
                {"name": "Entity kind", "value": "nonprofit"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "Alice Maker"
    assert me["source"]["note"] == "I make lamps & chairs."
    assert me["source"]["fields"][0]["name"] == "Workshop"
    assert me["followers_count"] == 1
    await settle(a, b)
    seen = await actor_row(b, alice.uri)
    assert seen is not None and seen.name == "Alice Maker" and seen.entity_kind == "nonprofit"

    direct = await call(
        a, "PATCH", "/api/v1/accounts/update_credentials", token, json={"entity_kind": "company"}
    )
    assert direct.json()["source"]["fields"][-1]["value"] == "company"


async def test_update_credentials_accepts_a_form(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    response = await call(
        a,
        "PATCH",
        "/api/v1/accounts/update_credentials",
        token,
        data={
            "locked": "true",
            "fields_attributes[0][name]": "Entity kind",
            "fields_attributes[0][value]": "Cooperative",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["locked"] is True
    assert response.json()["fields"] == [
        {"name": "Entity kind", "value": "cooperative", "verified_at": None}
    ]


async def test_errors_have_mastodons_shape(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    missing = await get(a, "/api/v1/accounts/verify_credentials")
    assert missing.status_code == 401 and "error" in missing.json()
    unknown = await get(a, "/api/v1/accounts/999999")
    assert unknown.status_code == 404 and unknown.json() == {"error": "Record not found"}
    assert (await get(a, "/api/v1/accounts/nonsense")).status_code == 404
    bad = await call(
        a, "PATCH", "/api/v1/accounts/update_credentials", token, json={"entity_kind": "guild"}
    )
    assert bad.status_code == 422 and "entity kind" in bad.json()["error"]
    no_acct = await get(a, "/api/v1/accounts/lookup")
    assert no_acct.status_code == 422 and "error" in no_acct.json()


async def test_lookup_and_search_find_local_and_remote_people(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    bob, _ = await b.user("bob")
    local = await get(a, "/api/v1/accounts/lookup", acct="alice")
    assert local.status_code == 200 and local.json()["id"] == str(alice.id)
    assert (await get(a, "/api/v1/accounts/lookup", acct="nobody")).status_code == 404

    not_resolved = await get(a, "/api/v1/accounts/search", token, q="bob@b.test")
    assert not_resolved.json() == []
    resolved = await get(a, "/api/v1/accounts/search", token, q="@bob@b.test", resolve="true")
    assert resolved.status_code == 200
    [found] = resolved.json()
    assert found["acct"] == "bob@b.test" and found["uri"] == bob.uri

    remote = await get(a, "/api/v1/accounts/lookup", acct="bob@b.test")
    assert remote.status_code == 200 and remote.json()["id"] == found["id"]
    by_name = await get(a, "/api/v1/accounts/search", q="ali")
    assert [acct["acct"] for acct in by_name.json()] == ["alice"]
    shown = await get(a, f"/api/v1/accounts/{found['id']}")
    assert shown.json()["acct"] == "bob@b.test"
    assert (await get(a, f"/api/v1/accounts/{found['id']}/statuses")).json() == []


async def test_follow_and_unfollow_a_remote_person_by_id(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    bob, _ = await b.user("bob")
    [found] = (await get(a, "/api/v1/accounts/search", token, q="bob@b.test", resolve="1")).json()
    path = f"/api/v1/accounts/{found['id']}"

    followed = await call(a, "POST", f"{path}/follow", token)
    assert followed.status_code == 200
    assert followed.json()["requested"] is True and followed.json()["following"] is False
    await settle(a, b)
    assert await follow_state(b, alice.uri, bob.uri) == FOLLOW_ACCEPTED
    relationships = await get(a, "/api/v1/accounts/relationships", token, **{"id[]": found["id"]})
    assert relationships.json()[0]["following"] is True
    assert (await get(a, path)).json()["followers_count"] == 1

    unfollowed = await call(a, "POST", f"{path}/unfollow", token)
    assert unfollowed.json()["following"] is False and unfollowed.json()["requested"] is False
    await settle(a, b)
    assert await follow_state(b, alice.uri, bob.uri) is None


async def test_followers_are_paged_with_link_headers(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, alice_token = await a.user("alice")
    names = ["bea", "cal", "dee"]
    for name in names:
        _, token = await a.user(name)
        response = await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", token)
        assert response.json()["following"] is True
    first = await get(a, f"/api/v1/accounts/{alice.id}/followers", limit="2")
    assert [acct["acct"] for acct in first.json()] == ["dee", "cal"]
    assert first.links["next"]["url"].startswith(f"https://a.test/api/v1/accounts/{alice.id}/")
    second = await get(a, first.links["next"]["url"].removeprefix("https://a.test"))
    assert [acct["acct"] for acct in second.json()] == ["bea"]
    back = await get(a, second.links["prev"]["url"].removeprefix("https://a.test"))
    assert [acct["acct"] for acct in back.json()] == ["dee", "cal"]
    following = await get(a, f"/api/v1/accounts/{first.json()[0]['id']}/following")
    assert [acct["acct"] for acct in following.json()] == ["alice"]
    me = (await get(a, "/api/v1/accounts/verify_credentials", alice_token)).json()
    assert me["followers_count"] == 3 and me["following_count"] == 0
    relationships = await get(
        a, "/api/v1/accounts/relationships", alice_token, **{"id[]": first.json()[0]["id"]}
    )
    assert relationships.json()[0]["followed_by"] is True


STARTUP = {
    "/api/v1/custom_emojis": list,
    "/api/v1/filters": list,
    "/api/v2/filters": list,
    "/api/v1/lists": list,
    "/api/v1/preferences": dict,
    "/api/v1/announcements": list,
    "/api/v1/follow_requests": list,
    "/api/v1/trends": list,
    "/api/v1/trends/tags": list,
    "/api/v1/trends/statuses": list,
    "/api/v1/trends/links": list,
    "/api/v1/instance/peers": list,
    "/api/v1/instance/activity": list,
    "/api/v1/instance/rules": list,
}


async def test_start_up_endpoints_answer_with_their_shapes(nodes: Any) -> None:
    a = await nodes("a.test", coop_rules=("Be kind.",))
    b = await nodes("b.test")
    _, token = await a.user("alice")
    await b.user("bob")
    await get(a, "/api/v1/accounts/lookup", acct="bob@b.test")
    for path, kind in STARTUP.items():
        for variant in (path, f"{path}/"):
            response = await get(a, variant, token)
            assert response.status_code == 200, variant
            assert isinstance(response.json(), kind), variant
    assert (await get(a, "/api/v1/preferences", token)).json()[
        "posting:default:visibility"
    ] == "public"
    assert (await get(a, "/api/v1/preferences")).status_code == 401
    assert (await get(a, "/api/v1/instance/peers")).json() == ["b.test"]
    assert (await get(a, "/api/v1/instance/rules")).json() == [
        {"id": "1", "text": "Be kind.", "hint": ""}
    ]
    assert (await get(a, "/api/v1/markers", token)).json() == {}


async def test_follow_requests_list_the_people_waiting(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await call(a, "PATCH", "/api/v1/accounts/update_credentials", token, json={"locked": True})
    alice = (await get(a, "/api/v1/accounts/verify_credentials", token)).json()
    _, bea_token = await a.user("bea")
    asked = await call(a, "POST", f"/api/v1/accounts/{alice['id']}/follow", bea_token)
    assert asked.json()["requested"] is True
    waiting = await get(a, "/api/v1/follow_requests", token)
    assert [acct["acct"] for acct in waiting.json()] == ["bea"]
    me = (await get(a, "/api/v1/accounts/verify_credentials", token)).json()
    assert me["source"]["follow_requests_count"] == 1


async def test_the_advertised_status_length_is_the_one_posting_applies(nodes: Any) -> None:
    node = await nodes("a.test")
    _, token = await node.user("alice")
    instance = (await get(node, "/api/v2/instance")).json()
    longest = instance["configuration"]["statuses"]["max_characters"]
    fits = await call(node, "POST", "/api/v1/statuses", token, json={"status": "x" * longest})
    assert fits.status_code == 200, fits.text
    too_long = "x" * (longest + 1)
    refused = await call(node, "POST", "/api/v1/statuses", token, json={"status": too_long})
    assert refused.status_code == 422 and str(longest) in refused.json()["error"]
