"""Blocks, mutes and a person's domain blocks: federated as Mastodon does, and hidden from
every timeline, notification list and thread of the person who chose them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, update
from starlette.routing import Route

from actors.models import Follow
from actors.relation_models import AccountBlock, AccountMute
from tests.support import Node, call, count, get, settle
from tests.test_mastodon_statuses import design, post
from tests.test_mastodon_streaming import AsgiStream


async def account_id(node: Node, token: str, acct: str) -> str:
    response = await get(node, "/api/v1/accounts/lookup", token, acct=acct)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def relationship(node: Node, token: str, other: str) -> dict[str, Any]:
    response = await get(node, "/api/v1/accounts/relationships", token, id=other)
    assert response.status_code == 200, response.text
    [found] = response.json()
    return found  # type: ignore[no-any-return]


async def act(node: Node, token: str, path: str, **kw: Any) -> dict[str, Any]:
    response = await call(node, "POST", path, token, **kw)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_block_ends_follows_both_ways_and_federates(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, mallory_token = await b.user("mallory")
    await b.post_outbox("mallory", mallory_token, {"type": "Follow", "object": "alice@a.test"})
    mallory = await account_id(a, token, "mallory@b.test")
    await act(a, token, f"/api/v1/accounts/{mallory}/follow")
    await settle(a, b)
    before = await relationship(a, token, mallory)
    assert before["following"] and before["followed_by"] and not before["blocking"]

    after = await act(a, token, f"/api/v1/accounts/{mallory}/block")
    assert after["blocking"] and not after["following"] and not after["followed_by"]
    await settle(a, b)
    assert await count(a, Follow) == 0 and await count(b, Follow) == 0
    # b.test was sent the Block and keeps it; its relationship says so from mallory's side.
    assert await count(b, AccountBlock) == 1
    alice_on_b = await account_id(b, mallory_token, "alice@a.test")
    assert (await relationship(b, mallory_token, alice_on_b))["blocked_by"]
    [listed] = (await get(a, "/api/v1/blocks", token)).json()
    assert listed["id"] == mallory and listed["acct"] == "mallory@b.test"

    # b.test honours the block itself: mallory can neither follow alice again nor answer
    # her there. A server that does not honour it is played by forgetting it on b.test.
    follow_alice = {"type": "Follow", "object": "alice@a.test"}
    assert (await b.post_outbox("mallory", mallory_token, follow_alice)).status_code == 403
    async with b.instance.sessions() as session:
        await session.execute(delete(AccountBlock))
        await session.commit()

    # What mallory sends now reaches alice in no way: a follow is refused, a mention and
    # a reply are not told, and her posts stay off alice's timelines.
    await b.post_outbox("mallory", mallory_token, follow_alice)
    note = await post(a, token, "Lamp news")
    await settle(a, b)
    await post(b, mallory_token, "@alice@a.test look at this")
    await b.post_outbox(
        "mallory", mallory_token, {"type": "Note", "content": "Hi", "inReplyTo": note["uri"]}
    )
    await settle(a, b)
    assert await count(a, Follow) == 0 and await count(b, Follow) == 0
    assert (await get(a, "/api/v1/notifications", token)).json() == []
    public = (await get(a, "/api/v1/timelines/public", token)).json()
    assert public and all(s["account"]["id"] != mallory for s in public)
    thread = (await get(a, f"/api/v1/statuses/{note['id']}/context", token)).json()
    assert thread["descendants"] == []
    refused = await call(a, "POST", f"/api/v1/accounts/{mallory}/follow", token)
    assert refused.status_code == 403 and "block" in refused.json()["error"]

    lifted = await act(a, token, f"/api/v1/accounts/{mallory}/unblock")
    assert not lifted["blocking"]
    await settle(a, b)
    assert await count(b, AccountBlock) == 0 and await count(a, AccountBlock) == 0
    assert (await get(a, "/api/v1/blocks", token)).json() == []
    # The thread shows her reply again: a block hides, it does not delete.
    thread = (await get(a, f"/api/v1/statuses/{note['id']}/context", token)).json()
    assert [s["account"]["id"] for s in thread["descendants"]] == [mallory]


async def test_a_remote_block_is_answered_in_kind(nodes: Any) -> None:
    """A remote person's Block of one of ours keeps them apart both ways here too."""
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, mallory_token = await b.user("mallory")
    mallory = await account_id(a, token, "mallory@b.test")
    await act(a, token, f"/api/v1/accounts/{mallory}/follow")
    await settle(a, b)
    alice_on_b = await account_id(b, mallory_token, "alice@a.test")
    await act(b, mallory_token, f"/api/v1/accounts/{alice_on_b}/block")
    await settle(a, b)
    assert await count(a, Follow) == 0 and await count(a, AccountBlock) == 1
    assert (await relationship(a, token, mallory))["blocked_by"]
    refused = await call(a, "POST", f"/api/v1/accounts/{mallory}/follow", token)
    assert refused.status_code == 403


# Walking every timeline and notification route as someone alice hides.


def _accounts_in(found: Any) -> set[str]:
    """Every account id a JSON answer carries, at any depth."""
    ids: set[str] = set()
    if isinstance(found, dict):
        for key, value in found.items():
            if key in ("account", "accounts") and isinstance(value, dict):
                ids.add(str(value.get("id")))
            ids |= _accounts_in(value)
    elif isinstance(found, list):
        for value in found:
            ids |= _accounts_in(value)
    return ids


async def _walk(a: Node, token: str, values: dict[str, str]) -> set[str]:
    """Every GET route of the timelines and notifications, as alice, with its path
    parameters filled in from `values` (a route with another parameter fails the test, so
    that a new timeline cannot be left out of this walk)."""
    seen: set[str] = set()
    walked = 0
    for route in a.app.routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if not route.path.startswith(("/api/v1/timelines/", "/api/v1/notifications")):
            continue
        path = route.path
        for name in route.param_convertors:
            assert name in values, f"{route.path}: give the walk a value for {{{name}}}"
            path = path.replace(f"{{{name}}}", values[name])
        for params in ({}, {"local": "true"}, {"remote": "true"}):
            response = await get(a, path, token, **params)
            assert response.status_code in (200, 404), (path, response.text)
            seen |= _accounts_in(response.json())
            walked += 1
    assert walked >= 15
    return seen


async def test_what_alice_hides_is_on_none_of_her_timelines(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    blocked, blocked_token = await a.user("mallory")
    muted, muted_token = await a.user("moe")
    _, eve_token = await b.user("eve")
    note = await post(a, token, "Lamp news")
    statuses = {str(bea.id): await design(a, bea_token, "lamp")}
    for actor, actor_token, slug in ((blocked, blocked_token, "bad"), (muted, muted_token, "odd")):
        await act(a, token, f"/api/v1/accounts/{actor.id}/follow")
        statuses[str(actor.id)] = await design(a, actor_token, slug)
    eve = await account_id(a, token, "eve@b.test")
    await act(a, token, f"/api/v1/accounts/{eve}/follow")
    await b.post_outbox("eve", eve_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    # A list of the accounts alice follows, read as one more timeline in the walk.
    await act(a, token, f"/api/v1/accounts/{bea.id}/follow")
    chosen = await act(a, token, "/api/v1/lists", json={"title": "Makers"})
    members = {"account_ids": [str(bea.id), str(muted.id), str(blocked.id), eve]}
    await act(a, token, f"/api/v1/lists/{chosen['id']}/accounts", json=members)

    await act(a, token, f"/api/v1/accounts/{blocked.id}/block")
    await act(a, token, f"/api/v1/accounts/{muted.id}/mute")
    hidden = await call(a, "POST", "/api/v1/domain_blocks", token, data={"domain": "b.test"})
    assert hidden.status_code == 200, hidden.text
    await settle(a, b)
    assert (await relationship(a, token, eve))["domain_blocking"]
    assert await count(a, Follow, Follow.follower_id == int(eve)) == 0
    assert await count(b, Follow) == 0  # both follows ended on b.test too (Undo, Reject)

    # Each of them (and bea, whom alice hides nothing of) posts, replies, mentions her,
    # favourites and boosts her note, and follows her.
    for who_token in (bea_token, muted_token):
        await post(a, who_token, "@alice hello", visibility="direct")
        await post(a, who_token, "A reply", in_reply_to_id=note["id"])
        await post(a, who_token, "Public words")
        await act(a, who_token, f"/api/v1/statuses/{note['id']}/favourite")
        await act(a, who_token, f"/api/v1/statuses/{note['id']}/reblog")
    # Whom alice blocks may mention her, but not answer, favourite or boost her, nor see
    # her statuses through the API.
    await post(a, blocked_token, "@alice hello", visibility="direct")
    await post(a, blocked_token, "Public words")
    for refused in (
        await call(
            a,
            "POST",
            "/api/v1/statuses",
            blocked_token,
            json={"status": "A reply", "in_reply_to_id": note["id"]},
        ),
        await call(a, "POST", f"/api/v1/statuses/{note['id']}/favourite", blocked_token),
        await call(a, "POST", f"/api/v1/statuses/{note['id']}/reblog", blocked_token),
    ):
        assert refused.status_code in (403, 404), refused.text
    assert (await get(a, f"/api/v1/statuses/{note['id']}", blocked_token)).status_code == 404
    await post(b, eve_token, "@alice@a.test hello")
    await b.post_outbox(
        "eve", eve_token, {"type": "Note", "content": "Hi", "inReplyTo": note["uri"]}
    )
    await b.post_outbox("eve", eve_token, {"type": "Like", "object": note["uri"]})
    await settle(a, b)

    walk_values = {"hashtag": "lamp", "id": chosen["id"]}
    seen = await _walk(a, token, walk_values)
    context = await get(a, f"/api/v1/statuses/{note['id']}/context", token)
    seen |= _accounts_in(context.json())
    assert str(bea.id) in seen  # the walk finds what is not hidden
    assert not seen & {str(blocked.id), str(muted.id), eve}
    unread = (await get(a, "/api/v1/notifications/unread_count", token)).json()["count"]
    assert unread == len((await get(a, "/api/v1/notifications", token)).json())

    # Opening the account itself shows its statuses, as on Mastodon; whom alice blocks
    # sees none of hers there.
    for hidden_one in (blocked, muted):
        theirs = await get(a, f"/api/v1/accounts/{hidden_one.id}/statuses", token)
        # Its own statuses and its boosts (whose `reblog` carries the boosted author).
        assert theirs.json() and {s["account"]["id"] for s in theirs.json()} == {str(hidden_one.id)}
    alices = await get(a, f"/api/v1/accounts/{note['account']['id']}/statuses", blocked_token)
    assert alices.status_code == 200 and alices.json() == []
    assert (await get(a, f"/api/v1/accounts/{note['account']['id']}/statuses", bea_token)).json()

    # Whoever else reads the same timelines sees them: the rule is alice's alone.
    others = await _walk(a, bea_token, walk_values)
    assert {str(blocked.id), str(muted.id)} <= others


async def test_a_mute_may_keep_notifications_and_may_end(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    moe, moe_token = await a.user("moe")
    note = await post(a, token, "Lamp news")
    muted = await act(
        a, token, f"/api/v1/accounts/{moe.id}/mute", json={"notifications": False, "duration": 60}
    )
    assert muted["muting"] and not muted["muting_notifications"]
    await post(a, moe_token, "A reply", in_reply_to_id=note["id"])
    await act(a, moe_token, f"/api/v1/statuses/{note['id']}/favourite")
    told = (await get(a, "/api/v1/notifications", token)).json()
    assert [n["type"] for n in told] == ["favourite", "mention"]
    thread = (await get(a, f"/api/v1/statuses/{note['id']}/context", token)).json()
    assert thread["descendants"] == []
    [listed] = (await get(a, "/api/v1/mutes", token)).json()
    assert listed["id"] == str(moe.id)

    # The mute ends by itself: everything shows again, and it is no longer listed.
    async with a.instance.sessions() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.execute(update(AccountMute).values(expires_at=past))
        await session.commit()
    thread = (await get(a, f"/api/v1/statuses/{note['id']}/context", token)).json()
    assert [s["account"]["id"] for s in thread["descendants"]] == [str(moe.id)]
    assert (await get(a, "/api/v1/mutes", token)).json() == []
    assert not (await relationship(a, token, str(moe.id)))["muting"]
    unmuted = await act(a, token, f"/api/v1/accounts/{moe.id}/unmute")
    assert not unmuted["muting"] and alice.id != moe.id


async def test_domain_blocks_are_listed_and_lifted(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    for body in ({"json": {"domain": "spam.example"}}, {"data": {"domain": "B.Test"}}):
        response = await call(a, "POST", "/api/v1/domain_blocks", token, **body)
        assert response.status_code == 200 and response.json() == {}
    listed = await get(a, "/api/v1/domain_blocks", token)
    assert listed.json() == ["b.test", "spam.example"]
    gone = await call(a, "DELETE", "/api/v1/domain_blocks?domain=spam.example", token)
    assert gone.status_code == 200
    assert (await get(a, "/api/v1/domain_blocks", token)).json() == ["b.test"]
    for bad in ({}, {"domain": "a.test"}, {"domain": "no/such thing"}):
        refused = await call(a, "POST", "/api/v1/domain_blocks", token, json=bad)
        assert refused.status_code == 422 and refused.json()["error"]
    assert (await get(a, "/api/v1/domain_blocks", token)).json() == ["b.test"]
    self_block = await call(a, "POST", f"/api/v1/accounts/{alice.id}/block", token)
    assert self_block.status_code == 422 and await count(a, AccountBlock) == 0


async def _events_until(stream: AsgiStream, event: str) -> list[tuple[str, Any]]:
    """The stream's events up to and with the first of this kind, their data as JSON."""
    found: list[tuple[str, Any]] = []
    while not found or found[-1][0] != event:
        name, data = await stream.event()
        found.append((name, json.loads(data) if name != "delete" else data))
    return found


async def test_streams_carry_nothing_of_whom_one_hides(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    mallory, mallory_token = await a.user("mallory")
    moe, moe_token = await a.user("moe")
    await act(a, token, f"/api/v1/accounts/{moe.id}/follow")
    await act(a, token, f"/api/v1/accounts/{mallory.id}/block")
    await act(a, token, f"/api/v1/accounts/{moe.id}/mute")
    async with (
        AsgiStream(a, "/api/v1/streaming/public/local", token) as public,
        AsgiStream(a, "/api/v1/streaming/user", token) as home,
        AsgiStream(a, "/api/v1/streaming/public/local", bea_token) as others,
    ):
        blocked = await post(a, mallory_token, "Blocked words")
        await post(a, moe_token, "Muted words, on the home stream of his followers")
        await post(a, moe_token, "@alice a muted mention")
        shown = await post(a, bea_token, "@alice Bea's words")
        assert (await public.next_of("update"))["id"] == shown["id"]
        assert (await others.next_of("update"))["id"] == blocked["id"]
        events = await _events_until(home, "notification")
        assert [name for name, _ in events] == ["notification"]
        assert events[0][1]["account"]["id"] == str(bea.id)


async def test_search_leaves_out_whom_the_searcher_hides(nodes: Any) -> None:
    """Search is one more way to read statuses: it leaves out those of a muted account, by
    words and by URL, for the person who muted it only."""
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bob, bob_token = await a.user("bob")
    _, carol_token = await a.user("carol")
    note = await post(a, bob_token, "A walnut lamp")
    muted = await call(a, "POST", f"/api/v1/accounts/{bob.id}/mute", token)
    assert muted.status_code == 200, muted.text
    for query in ("walnut", note["uri"]):
        params = {"q": query, "type": "statuses"}
        mine = await call(a, "GET", "/api/v2/search", token, params=params)
        theirs = await call(a, "GET", "/api/v2/search", carol_token, params=params)
        assert mine.status_code == 200 and mine.json()["statuses"] == []
        assert [s["id"] for s in theirs.json()["statuses"]] == [note["id"]]
