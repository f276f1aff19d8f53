"""Mastodon's lists: CRUD, members (only accounts one follows), and the list timeline."""

from __future__ import annotations

from typing import Any

from tests.support import call, get, settle
from tests.test_mastodon_blocks import account_id, act
from tests.test_mastodon_statuses import post


async def test_lists_hold_followed_accounts_and_are_read_as_timelines(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    cy, cy_token = await a.user("cy")
    _, dan_token = await b.user("dan")
    dan = await account_id(a, token, "dan@b.test")
    for other in (str(bea.id), str(cy.id), dan):
        await act(a, token, f"/api/v1/accounts/{other}/follow")
    await settle(a, b)

    created = await call(a, "POST", "/api/v1/lists", token, data={"title": "Lamp makers"})
    assert created.status_code == 200, created.text
    makers = created.json()
    assert makers["title"] == "Lamp makers" and makers["replies_policy"] == "list"
    assert makers["exclusive"] is False
    path = f"/api/v1/lists/{makers['id']}"
    body = {"account_ids[]": [str(bea.id), dan]}
    assert (await call(a, "POST", f"{path}/accounts", token, data=body)).json() == {}
    listed = (await get(a, f"{path}/accounts", token)).json()
    assert {account["id"] for account in listed} == {str(bea.id), dan}
    held = (await get(a, f"/api/v1/accounts/{bea.id}/lists", token)).json()
    assert [each["id"] for each in held] == [makers["id"]]

    # The list's timeline: its accounts' posts, no one else's.
    words = await post(a, bea_token, "New shade")
    await post(a, cy_token, "Not on the list")
    await b.post_outbox("dan", dan_token, {"type": "Note", "content": "From afar"})
    await settle(a, b)
    timeline = (await get(a, f"/api/v1/timelines/list/{makers['id']}", token)).json()
    contents = [status["content"] for status in timeline]
    assert any("From afar" in text for text in contents)
    assert words["id"] in {status["id"] for status in timeline}
    assert all(status["account"]["id"] != str(cy.id) for status in timeline)

    # Replies: to the list's accounts only ("list"), none, or to anyone followed.
    await post(a, bea_token, "To cy", in_reply_to_id=(await post(a, cy_token, "Hi"))["id"])
    await post(a, bea_token, "To dan's words", in_reply_to_id=timeline[0]["id"])

    async def reply_texts() -> list[str]:
        found = (await get(a, f"/api/v1/timelines/list/{makers['id']}", token)).json()
        return [s["content"] for s in found if s["in_reply_to_id"]]

    assert [("dan" in text) for text in await reply_texts()] == [True]
    changed = await call(a, "PUT", path, token, json={"replies_policy": "followed"})
    assert changed.json()["replies_policy"] == "followed"
    assert len(await reply_texts()) == 2
    await call(a, "PUT", path, token, json={"replies_policy": "none", "title": "Makers"})
    assert await reply_texts() == []
    assert (await get(a, path, token)).json()["title"] == "Makers"

    # Exclusive: the list's accounts leave the home timeline.
    home = (await get(a, "/api/v1/timelines/home", token)).json()
    assert any(s["account"]["id"] == str(bea.id) for s in home)
    await call(a, "PUT", path, token, data={"exclusive": "true"})
    home = (await get(a, "/api/v1/timelines/home", token)).json()
    assert home and all(s["account"]["id"] not in (str(bea.id), dan) for s in home)

    # Removing a member, then the list.
    gone = await call(a, "DELETE", f"{path}/accounts?account_ids[]={bea.id}", token)
    assert gone.status_code == 200
    assert [x["id"] for x in (await get(a, f"{path}/accounts", token)).json()] == [dan]
    assert (await call(a, "DELETE", path, token)).json() == {}
    assert (await get(a, "/api/v1/lists", token)).json() == []
    assert (await get(a, path, token)).status_code == 404
    assert alice.id != bea.id


async def test_only_followed_accounts_and_only_ones_own_lists(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    cy, _ = await a.user("cy")
    await act(a, token, f"/api/v1/accounts/{bea.id}/follow")
    mine = await act(a, token, "/api/v1/lists", json={"title": "Mine"})
    path = f"/api/v1/lists/{mine['id']}"

    refused = await call(a, "POST", f"{path}/accounts", token, json={"account_ids": [str(cy.id)]})
    assert refused.status_code == 422 and "follow" in refused.json()["error"]
    for bad in ({}, {"title": " "}, {"title": "x", "replies_policy": "all"}):
        answer = await call(a, "POST", "/api/v1/lists", token, json=bad)
        assert answer.status_code == 422 and answer.json()["error"]
    assert [x["id"] for x in (await get(a, "/api/v1/lists", token)).json()] == [mine["id"]]

    # Someone else's list is as if it did not exist, whatever they try.
    for method, suffix, kw in (
        ("GET", "", {}),
        ("PUT", "", {"json": {"title": "Taken"}}),
        ("DELETE", "", {}),
        ("GET", "/accounts", {}),
        ("POST", "/accounts", {"json": {"account_ids": [str(bea.id)]}}),
        ("DELETE", "/accounts", {"json": {"account_ids": [str(bea.id)]}}),
    ):
        answer = await call(a, method, f"{path}{suffix}", bea_token, **kw)
        assert answer.status_code == 404, (method, suffix, answer.text)
    timeline = await get(a, f"/api/v1/timelines/list/{mine['id']}", bea_token)
    assert timeline.status_code == 404
    assert (await get(a, path, token)).json()["title"] == "Mine"

    # Unfollowing leaves the account on the list, but its posts off the list's timeline.
    await act(a, token, f"/api/v1/lists/{mine['id']}/accounts", json={"account_ids": [bea.id]})
    await post(a, bea_token, "Seen while followed")
    assert len((await get(a, f"/api/v1/timelines/list/{mine['id']}", token)).json()) == 1
    await act(a, token, f"/api/v1/accounts/{bea.id}/unfollow")
    assert (await get(a, f"/api/v1/timelines/list/{mine['id']}", token)).json() == []
