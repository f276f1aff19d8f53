"""Mastodon's notifications, from events on this instance and on another one."""

from __future__ import annotations

from typing import Any

from tests.support import Node, app_token, call, get, settle
from tests.test_design_api import new_project, version
from tests.test_mastodon_statuses import design, post


async def notifications(node: Node, token: str, **params: Any) -> list[dict[str, Any]]:
    response = await get(node, "/api/v1/notifications", token, **params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [n["type"] for n in found]


async def test_remote_follow_reply_like_and_boost(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    note = await post(a, token, "Lamp news")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    reply = {"type": "Note", "content": "Nice", "inReplyTo": note["uri"]}
    await b.post_outbox("bob", bob_token, reply)
    await b.post_outbox("bob", bob_token, {"type": "Like", "object": note["uri"]})
    await b.post_outbox("bob", bob_token, {"type": "Announce", "object": note["uri"]})
    await settle(a, b)

    found = await notifications(a, token)
    assert kinds(found) == ["reblog", "favourite", "mention", "follow"]
    assert {n["account"]["acct"] for n in found} == {"bob@b.test"}
    reblog, favourite, mention, follow = found
    assert reblog["status"]["id"] == favourite["status"]["id"] == note["id"]
    assert "Nice" in mention["status"]["content"] and "status" not in follow
    assert mention["status"]["in_reply_to_id"] == note["id"]
    assert await notifications(b, bob_token) == []  # remote actors are never told here


async def test_no_notification_for_ones_own_actions(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    note = await post(a, token, "Mine")
    await post(a, token, "Me again", in_reply_to_id=note["id"])
    await call(a, "POST", f"/api/v1/statuses/{note['id']}/favourite", token)
    await call(a, "POST", f"/api/v1/statuses/{note['id']}/reblog", token)
    assert await notifications(a, token) == []


async def test_a_reply_to_a_design_version_tells_its_maintainer(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    version_uri = (await design(a, token, "lamp"))["id"]
    [status] = (await get(a, "/api/v1/timelines/tag/lamp")).json()
    reply = await post(a, bea_token, "Nice lamp", in_reply_to_id=status["id"])
    # The cooperative boosts its members' new designs: a boost of the version, told too.
    [boost] = await notifications(a, token, **{"types[]": "reblog"})
    assert boost["account"]["acct"] == "coop" and boost["status"]["uri"] == version_uri
    [mention] = await notifications(a, token, **{"types[]": "mention"})
    assert mention["type"] == "mention" and mention["account"]["id"] == str(bea.id)
    assert mention["status"]["id"] == reply["id"]
    assert mention["status"]["in_reply_to_id"] == status["id"]
    assert await notifications(a, bea_token) == []


async def test_a_fork_on_another_instance_is_a_status_notification(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await new_project(a, token, "lamp")
    upstream = await version(a, token, "lamp", "CC-BY-SA-4.0")
    body = {"upstream": upstream["id"], "slug": "lamp", "licence": None}
    created = await call(b, "POST", "/api/v1/forks", bob_token, json=body)
    assert created.status_code == 201, created.text
    await settle(a, b)
    [fork] = await notifications(a, token, **{"types[]": "status"})
    assert fork["type"] == "status" and fork["ourdesign_type"] == "fork"
    assert fork["status"]["uri"] == created.json()["version"]["id"]
    assert fork["account"]["acct"] == "lamp@b.test"
    others = await notifications(a, token, **{"exclude_types[]": "status"})
    assert kinds(others) == ["reblog"]  # the cooperative's boost of the upstream version
    shown = await get(a, f"/api/v1/notifications/{fork['id']}", token)
    assert shown.json() == fork


async def test_filters_paging_dismiss_and_clear(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    note = await post(a, token, "Follow me")
    followers = [await a.user(f"fan{n}") for n in range(5)]
    for _, fan_token in followers:
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", fan_token)
    await call(a, "POST", f"/api/v1/statuses/{note['id']}/favourite", followers[0][1])

    everything = await notifications(a, token)
    assert kinds(everything) == ["favourite"] + ["follow"] * 5
    follows = await notifications(a, token, **{"types[]": "follow"})
    assert [n["account"]["id"] for n in follows] == [str(f.id) for f, _ in followers[::-1]]
    assert kinds(await notifications(a, token, **{"exclude_types[]": "follow"})) == ["favourite"]
    by_one = await notifications(a, token, account_id=str(followers[0][0].id))
    assert kinds(by_one) == ["favourite", "follow"]

    first = await get(a, "/api/v1/notifications", token, limit="4")
    assert [n["id"] for n in first.json()] == [n["id"] for n in everything[:4]]
    older = await get(a, first.links["next"]["url"].removeprefix("https://a.test"), token)
    assert [n["id"] for n in older.json()] == [n["id"] for n in everything[4:]]
    newer = await get(a, older.links["prev"]["url"].removeprefix("https://a.test"), token)
    assert [n["id"] for n in newer.json()] == [n["id"] for n in everything[:4]]
    count = await get(a, "/api/v1/notifications/unread_count", token)
    assert count.json() == {"count": 6}

    dismissed = await call(a, "POST", f"/api/v1/notifications/{everything[0]['id']}/dismiss", token)
    assert dismissed.status_code == 200
    gone = await get(a, f"/api/v1/notifications/{everything[0]['id']}", token)
    assert gone.status_code == 404
    not_hers = await call(
        a, "POST", f"/api/v1/notifications/{everything[1]['id']}/dismiss", followers[0][1]
    )
    assert not_hers.status_code == 404
    assert len(await notifications(a, token)) == 5
    assert (await call(a, "POST", "/api/v1/notifications/clear", token)).status_code == 200
    assert await notifications(a, token) == []


async def test_a_read_only_token_reads_and_cannot_clear(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bea_token)
    read_only = await app_token(a, alice)
    assert kinds(await notifications(a, read_only)) == ["follow"]
    refused = await call(a, "POST", "/api/v1/notifications/clear", read_only)
    assert refused.status_code == 403
    assert (await get(a, "/api/v1/notifications")).status_code == 401
    assert kinds(await notifications(a, token)) == ["follow"]
