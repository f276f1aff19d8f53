"""Account statuses filtered as Mastodon filters them, and pins: kept, shown as `pinned`,
served as the actor's `featured` collection and federated as `Add` and `Remove`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.models import Actor
from objects.pin_models import Pin
from outbox.models import OutboxActivity
from tests.support import ACTIVITY_JSON, Node, call, count, get, settle
from tests.test_mastodon_media import uploaded


async def post(node: Node, token: str, **body: Any) -> dict[str, Any]:
    posted = await call(node, "POST", "/api/v1/statuses", token, json=body)
    assert posted.status_code == 200, posted.text
    return posted.json()


async def texts(node: Node, path: str, token: str | None = None, **params: Any) -> list[str]:
    answer = await get(node, path, token, **params)
    assert answer.status_code == 200, answer.text
    return [status["content"] for status in answer.json()]


async def remote_id(node: Node, uri: str) -> int:
    async with node.instance.sessions() as session:
        found = await session.scalar(select(Actor.id).where(Actor.uri == uri))
    assert found is not None
    return found


async def test_pins_federate_as_a_featured_collection(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    first = await post(a, token, status="Our first lamp")
    second = await post(a, token, status="Second thoughts")
    await settle(a, b)

    pinned = await call(a, "POST", f"/api/v1/statuses/{first['id']}/pin", token)
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["pinned"] is True
    again = await call(a, "POST", f"/api/v1/statuses/{first['id']}/pin", token)
    assert again.status_code == 200 and await count(a, Pin) == 1
    alice_id = first["account"]["id"]
    shown = await get(a, f"/api/v1/accounts/{alice_id}/statuses", token, pinned="true")
    assert [s["id"] for s in shown.json()] == [first["id"]]
    assert shown.json()[0]["pinned"] is True
    everything = (await get(a, f"/api/v1/accounts/{alice_id}/statuses", token)).json()
    assert {s["id"]: s["pinned"] for s in everything} == {first["id"]: True, second["id"]: False}

    async with a.client(headers={"Accept": ACTIVITY_JSON}) as client:
        actor_doc = (await client.get("/users/alice")).json()
        featured = (await client.get("/users/alice/collections/featured")).json()
    assert actor_doc["featured"] == "https://a.test/users/alice/collections/featured"
    assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 1
    assert featured["orderedItems"][0]["id"] == first["uri"]
    async with a.instance.sessions() as session:
        [add] = await session.scalars(select(OutboxActivity).where(OutboxActivity.type == "Add"))
    assert add.payload["target"] == actor_doc["featured"]
    assert add.payload["object"] == first["uri"]

    await settle(a, b)  # b learns of the pin from the Add
    alice_on_b = await remote_id(b, alice.uri)
    seen = await texts(b, f"/api/v1/accounts/{alice_on_b}/statuses", bob_token, pinned="true")
    assert len(seen) == 1 and "Our first lamp" in seen[0]

    unpinned = await call(a, "POST", f"/api/v1/statuses/{first['id']}/unpin", token)
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    await settle(a, b)
    assert await texts(b, f"/api/v1/accounts/{alice_on_b}/statuses", bob_token, pinned="true") == []
    assert await count(a, Pin) == 0 and await count(b, Pin) == 0


async def test_what_cannot_be_pinned(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    theirs = await post(a, bea_token, status="bea's")
    refused = await call(a, "POST", f"/api/v1/statuses/{theirs['id']}/pin", token)
    assert refused.status_code == 422 and "your own" in refused.json()["error"]
    direct = await post(a, token, status="@bea psst", visibility="direct")
    refused = await call(a, "POST", f"/api/v1/statuses/{direct['id']}/pin", token)
    assert refused.status_code == 422 and "direct" in refused.json()["error"]
    for n in range(5):
        note = await post(a, token, status=f"number {n}")
        assert (
            await call(a, "POST", f"/api/v1/statuses/{note['id']}/pin", token)
        ).status_code == 200
    extra = await post(a, token, status="one too many")
    refused = await call(a, "POST", f"/api/v1/statuses/{extra['id']}/pin", token)
    assert refused.status_code == 422 and "maximum" in refused.json()["error"]
    assert await count(a, Pin) == 5
    missing = await call(a, "POST", "/api/v1/statuses/999999/pin", token)
    assert missing.status_code == 404
    reader_only = await call(a, "POST", f"/api/v1/statuses/{extra['id']}/pin")
    assert reader_only.status_code == 401


async def test_only_media_exclude_replies_and_exclude_reblogs(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    media = await uploaded(a, token)
    pictured = await post(a, token, status="with a picture", media_ids=[media["id"]])
    plain = await post(a, token, status="just words")
    reply = await post(a, token, status="a reply", in_reply_to_id=plain["id"])
    path = f"/api/v1/accounts/{pictured['account']['id']}/statuses"

    async def ids(**params: str) -> list[str]:
        answer = await get(a, path, token, **params)
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()]

    assert await ids() == [reply["id"], plain["id"], pictured["id"]]
    assert await ids(only_media="true") == [pictured["id"]]
    assert await ids(exclude_replies="true") == [plain["id"], pictured["id"]]
    assert await ids(exclude_reblogs="true") == [reply["id"], plain["id"], pictured["id"]]
    assert await ids(only_media="1", exclude_replies="1") == [pictured["id"]]
