"""A locked person answers follow requests: through the Mastodon API and the web page, for
followers on another instance (an `Accept` or `Reject` goes back) and on the same one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, Actor, Follow
from outbox.models import OutboxActivity
from tests.support import Node, call, get, settle
from tests.web_support import browser_and_token, csrf_for, text_of


async def follow_state(node: Node, follower_uri: str, followee_uri: str) -> str | None:
    async with node.instance.sessions() as session:
        return await session.scalar(
            select(Follow.state)
            .join(Actor, Actor.id == Follow.follower_id)
            .where(
                Actor.uri == follower_uri,
                Follow.followee_id.in_(select(Actor.id).where(Actor.uri == followee_uri)),
            )
        )


async def sent(node: Node, kind: str) -> list[dict[str, Any]]:
    async with node.instance.sessions() as session:
        rows = await session.scalars(select(OutboxActivity).where(OutboxActivity.type == kind))
        return [row.payload for row in rows]


async def lock(node: Node, token: str) -> str:
    locked = await call(
        node, "PATCH", "/api/v1/accounts/update_credentials", token, json={"locked": True}
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True, locked.text
    return str(locked.json()["id"])


async def post(node: Node, token: str, text: str, visibility: str = "public") -> None:
    body = {"status": text, "visibility": visibility}
    posted = await call(node, "POST", "/api/v1/statuses", token, json=body)
    assert posted.status_code == 200, posted.text


async def home_texts(node: Node, token: str) -> list[str]:
    home = await get(node, "/api/v1/timelines/home", token)
    assert home.status_code == 200, home.text
    return [status["content"] for status in home.json()]


async def test_a_remote_follow_waits_until_authorized_then_posts_arrive(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, alice_token = await a.user("alice")
    await lock(a, alice_token)
    bob, bob_token = await b.user("bob")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    assert await follow_state(a, bob.uri, alice.uri) == FOLLOW_PENDING
    assert await follow_state(b, bob.uri, alice.uri) == FOLLOW_PENDING
    await post(a, alice_token, "before the answer", "private")
    await settle(a, b)
    assert await sent(a, "Accept") == []
    assert not any("before the answer" in text for text in await home_texts(b, bob_token))

    waiting = await get(a, "/api/v1/follow_requests", alice_token)
    assert [account["acct"] for account in waiting.json()] == ["bob@b.test"]
    assert "Link" in waiting.headers
    bob_id = waiting.json()[0]["id"]
    answered = await call(a, "POST", f"/api/v1/follow_requests/{bob_id}/authorize", alice_token)
    assert answered.status_code == 200, answered.text
    assert answered.json()["followed_by"] is True and answered.json()["requested_by"] is False
    assert (await get(a, "/api/v1/follow_requests", alice_token)).json() == []
    [accept] = await sent(a, "Accept")
    assert accept["object"]["actor"] == bob.uri and accept["object"]["type"] == "Follow"
    await settle(a, b)
    assert await follow_state(b, bob.uri, alice.uri) == FOLLOW_ACCEPTED
    notices = (await get(a, "/api/v1/notifications", alice_token)).json()
    assert [n["type"] for n in notices] == ["follow"]

    await post(a, alice_token, "for my followers", "private")
    await settle(a, b)
    assert any("for my followers" in text for text in await home_texts(b, bob_token))
    # Answering twice finds nothing waiting: a clear 404, and nothing more is sent.
    again = await call(a, "POST", f"/api/v1/follow_requests/{bob_id}/authorize", alice_token)
    assert again.status_code == 404 and "follow_requests" in again.json()["error"]
    assert len(await sent(a, "Accept")) == 1


async def test_a_rejected_remote_request_is_removed_on_both_sides(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, alice_token = await a.user("alice")
    alice_id = await lock(a, alice_token)
    carol, carol_token = await b.user("carol")
    await b.post_outbox("carol", carol_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    [carol_id] = [
        acct["id"] for acct in (await get(a, "/api/v1/follow_requests", alice_token)).json()
    ]
    refused = await call(a, "POST", f"/api/v1/follow_requests/{carol_id}/reject", alice_token)
    assert refused.status_code == 200, refused.text
    assert refused.json()["followed_by"] is False and refused.json()["requested_by"] is False
    [reject] = await sent(a, "Reject")
    assert reject["to"] == [carol.uri] and reject["object"]["actor"] == carol.uri
    await settle(a, b)
    assert await follow_state(a, carol.uri, alice.uri) is None
    assert await follow_state(b, carol.uri, alice.uri) is None
    assert (await get(a, "/api/v1/notifications", alice_token)).json() == []
    me = (await get(a, f"/api/v1/accounts/{alice_id}", alice_token)).json()
    assert me["followers_count"] == 0


async def test_answering_needs_the_follow_scope_and_a_request_of_ones_own(nodes: Any) -> None:
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    alice_id = await lock(a, alice_token)
    bea, bea_token = await a.user("bea")
    _, dan_token = await a.user("dan")
    asked = await call(a, "POST", f"/api/v1/accounts/{alice_id}/follow", bea_token)
    assert asked.json()["requested"] is True
    # Someone else cannot answer alice's request, and a word that is no id is a 404.
    stolen = await call(a, "POST", f"/api/v1/follow_requests/{bea.id}/authorize", dan_token)
    assert stolen.status_code == 404
    nonsense = await call(a, "POST", "/api/v1/follow_requests/bea/authorize", alice_token)
    assert nonsense.status_code == 404 and nonsense.json()["error"]
    anonymous = await call(a, "POST", f"/api/v1/follow_requests/{bea.id}/authorize")
    assert anonymous.status_code == 401
    # A local follower needs no activity: the follow is simply accepted.
    done = await call(a, "POST", f"/api/v1/follow_requests/{bea.id}/authorize", alice_token)
    assert done.status_code == 200 and done.json()["followed_by"] is True
    assert await sent(a, "Accept") == []
    relation = await get(a, "/api/v1/accounts/relationships", bea_token, **{"id[]": alice_id})
    assert relation.json()[0]["following"] is True


async def test_the_web_page_lets_a_locked_person_answer(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    browser, alice_token = await browser_and_token(a, "alice")
    await lock(a, alice_token)
    bob, bob_token = await b.user("bob")
    bea, bea_token = await a.user("bea")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await a.post_outbox("bea", bea_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    async with browser:
        settings = await browser.get("/settings")
        assert 'href="/settings/follow-requests"' in settings.text
        profile = await browser.get("/users/alice", headers={"Accept": "text/html"})
        assert 'href="/settings/follow-requests"' in profile.text
        assert "you approve each new follower" in text_of(profile.text)
        page = await browser.get("/settings/follow-requests")
        assert "@bob@b.test" in text_of(page.text) and "@bea@a.test" in text_of(page.text)
        fields = await csrf_for(browser, "/settings/follow-requests", "/settings/follow-requests")
        # Without the CSRF field nothing changes.
        forged = await browser.post(
            "/settings/follow-requests", data={"account_id": str(bea.id), "decision": "reject"}
        )
        assert forged.status_code == 403
        assert await follow_state(a, bea.uri, "https://a.test/users/alice") == FOLLOW_PENDING
        bob_row = await _actor_id(a, bob.uri)
        accepted = await browser.post(
            "/settings/follow-requests",
            data={**fields, "account_id": str(bob_row), "decision": "authorize"},
        )
        assert accepted.status_code == 303, accepted.text
        assert accepted.headers["location"] == "/settings/follow-requests?done=authorized"
        fields = await csrf_for(browser, "/settings/follow-requests", "/settings/follow-requests")
        rejected = await browser.post(
            "/settings/follow-requests",
            data={**fields, "account_id": str(bea.id), "decision": "reject"},
        )
        assert rejected.status_code == 303
        empty = await browser.get("/settings/follow-requests")
        assert "Nobody is waiting" in text_of(empty.text)
        wrong = await browser.post(
            "/settings/follow-requests",
            data={**fields, "account_id": str(bea.id), "decision": "authorize"},
        )
        assert wrong.status_code == 404 and "no follow request" in text_of(wrong.text)
    await settle(a, b)
    assert await follow_state(b, bob.uri, "https://a.test/users/alice") == FOLLOW_ACCEPTED
    assert await follow_state(a, bea.uri, "https://a.test/users/alice") is None
    async with a.client(follow_redirects=False) as anonymous:
        away = await anonymous.get("/settings/follow-requests")
        others = await anonymous.get("/users/alice", headers={"Accept": "text/html"})
    assert away.status_code == 303 and "/sign-in" in away.headers["location"]
    assert others.status_code == 200 and "/settings/follow-requests" not in others.text


async def _actor_id(node: Node, uri: str) -> int:
    async with node.instance.sessions() as session:
        found = await session.scalar(select(Actor.id).where(Actor.uri == uri))
    assert found is not None
    return found
